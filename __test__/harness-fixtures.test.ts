// Checks that every capture agrees with its sidecar, and pins the usage rules
// the fixtures README states: final `message.updated` per message id, one
// step-finish per message, and the mapping from provider usage to tokens.

import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseSse } from '../monitor/src/harness/derive.js'
import type { OpencodeEvent } from '../monitor/src/harness/driver.js'

const dir = path.join(__dirname, '../fixtures/captures')
const names = fs
  .readdirSync(dir)
  .filter((f) => /^[a-z-]+\.json$/.test(f))
  .map((f) => f.replace(/\.json$/, ''))

interface Tokens {
  input: number
  output: number
  reasoning: number
  cache: { read: number; write: number }
}

function load(name: string): { events: OpencodeEvent[]; facts: any } {
  return {
    events: parseSse(fs.readFileSync(path.join(dir, `${name}.sse`), 'utf8')),
    facts: JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')),
  }
}

function micros(usd: number): number {
  return Math.round(usd * 1e6)
}

/** Sums cost (micro-USD) and tokens over the given per-message figures. */
function total(items: Array<{ cost: number; tokens: Tokens }>) {
  return items.reduce(
    (sum, m) => ({
      cost: sum.cost + micros(m.cost),
      input: sum.input + m.tokens.input,
      output: sum.output + m.tokens.output,
      reasoning: sum.reasoning + m.tokens.reasoning,
      cacheRead: sum.cacheRead + m.tokens.cache.read,
    }),
    { cost: 0, input: 0, output: 0, reasoning: 0, cacheRead: 0 },
  )
}

function expectedSum(sessionTotals: any) {
  const s = sessionTotals.sum
  return { cost: micros(s.cost), input: s.input, output: s.output, reasoning: s.reasoning, cacheRead: s.cacheRead }
}

describe('captured fixtures', () => {
  it('include every scenario', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'edit-inside',
        'write-outside',
        'write-outside-approved',
        'bash-compound',
        'npm-install',
        'webfetch',
        'multi-step',
        'cd-parent',
        'subagent',
        'mcp-tool',
        'always-reply',
      ]),
    )
  })

  describe.each(names)('%s', (name) => {
    const { events, facts } = load(name)

    it('lists the same permission requests', () => {
      const asked = events.filter((e) => e.type === 'permission.asked').map((e) => e.properties)
      expect(asked.map((p) => [p.id, p.sessionID, p.permission, p.patterns, p.always])).toEqual(
        facts.permissions.map((p: any) => [p.id, p.sessionID, p.permission, p.patterns, p.always]),
      )
      for (const p of asked) expect(Object.keys(p).sort()).toEqual(['always', 'id', 'metadata', 'patterns', 'permission', 'sessionID', 'tool'])
    })

    it('replies once per request', () => {
      const replied = events.filter((e) => e.type === 'permission.replied').map((e) => e.properties)
      expect(replied.map((r) => [r.requestID, r.reply])).toEqual(facts.permissions.map((p: any) => [p.id, p.reply]))
    })

    it('sums final message updates to server totals', () => {
      for (const session of facts.serverTotals) {
        const latest = new Map<string, any>()
        for (const e of events) {
          const info = e.properties.info
          if (e.type === 'message.updated' && info.role === 'assistant' && info.sessionID === session.sessionId) latest.set(info.id, info)
        }
        expect(total([...latest.values()])).toEqual(expectedSum(session))
        expect(micros(session.sessionInfo.cost)).toBe(expectedSum(session).cost)
      }
    })

    it('sums step-finish parts to server totals', () => {
      for (const session of facts.serverTotals) {
        const parts = new Map<string, any>()
        for (const e of events) {
          const part = e.properties.part
          if (e.type === 'message.part.updated' && part.type === 'step-finish' && part.sessionID === session.sessionId) parts.set(part.id, part)
        }
        expect(parts.size).toBe(session.assistantMessages.length)
        expect(total([...parts.values()])).toEqual(expectedSum(session))
      }
    })

    it('overcounts when updates are added', () => {
      const all = events.filter((e) => e.type === 'message.updated' && e.properties.info.role === 'assistant').map((e) => e.properties.info)
      const perSession = facts.serverTotals.reduce((sum: number, s: any) => sum + expectedSum(s).input, 0)
      expect(total(all).input).toBeGreaterThan(perSession)
    })

    it('maps provider usage to tokens', () => {
      const scripts: string[] = []
      for (const r of facts.modelRequests) if (r.kind === 'turn' && !scripts.includes(r.script)) scripts.push(r.script)
      scripts.forEach((script, index) => {
        const turns = facts.modelRequests.filter((r: any) => r.kind === 'turn' && r.script === script)
        const messages = facts.serverTotals[index].assistantMessages
        expect(messages).toHaveLength(turns.length)
        turns.forEach((turn: any, i: number) => {
          const u = turn.usage
          const cached = u.cachedTokens ?? 0
          const reasoning = u.reasoningTokens ?? 0
          expect(messages[i].tokens).toEqual({
            total: u.promptTokens + u.completionTokens,
            input: u.promptTokens - cached,
            output: u.completionTokens - reasoning,
            reasoning,
            cache: { read: cached, write: 0 },
          })
          const price = facts.modelCostPerMillion
          const expected = (u.promptTokens - cached) * price.input + u.completionTokens * price.output + cached * price.cache_read
          expect(micros(messages[i].cost)).toBe(Math.round(expected))
        })
      })
    })
  })
})

describe('derived fixtures', () => {
  const sources = new Map<string, any>()
  for (const name of names) for (const e of load(name).events) if (e.type === 'permission.asked') sources.set(e.properties.id, e.properties)

  it('map v2 requests back to captured ones', () => {
    const events = parseSse(fs.readFileSync(path.join(dir, 'derived/permission-v2-asked.sse'), 'utf8'))
    const asked = events.filter((e) => e.type === 'permission.v2.asked')
    expect(asked.length).toBeGreaterThan(0)
    for (const e of asked) {
      const source = sources.get(e.properties.id)
      expect(e.properties).toEqual({
        id: source.id,
        sessionID: source.sessionID,
        action: source.permission,
        resources: source.patterns,
        save: source.always,
        metadata: source.metadata,
        source: { type: 'tool', ...source.tool },
      })
    }
  })

  it('map legacy requests back to captured ones', () => {
    const events = parseSse(fs.readFileSync(path.join(dir, 'derived/permission-updated.sse'), 'utf8'))
    const updated = events.filter((e) => e.type === 'permission.updated')
    expect(updated.length).toBe(events.filter((e) => e.type === 'permission.replied').length)
    for (const e of updated) {
      const source = sources.get(e.properties.id)
      expect([e.properties.type, e.properties.sessionID, e.properties.callID]).toEqual([source.permission, source.sessionID, source.tool.callID])
      if (source.permission === 'edit') expect(e.properties.metadata.filePath).toBe(source.metadata.filepath)
      if (source.permission === 'bash') expect(e.properties.title).toBe(source.metadata.command)
    }
  })
})
