// End to end: a real `opencode serve` driven by the scripted model server,
// governed by the Monitor with the built-in default policy.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAddon, type Governor } from '../monitor/src/addon.ts'
import { isIdle } from '../monitor/src/demo.ts'
import { startModelServer, type ModelServer } from '../monitor/src/harness/model-server.ts'
import { startOpencode, type OpencodeServer as OpencodeProcess } from '../monitor/src/harness/opencode-server.ts'
import { createWorktree, type TempWorktree } from '../monitor/src/harness/worktree.ts'
import { silentLogger } from '../monitor/src/log.ts'
import { Monitor, type DecisionEvent, type HeldPermission } from '../monitor/src/monitor.ts'
import { OpencodeServer } from '../monitor/src/server.ts'
import { summarize } from '../monitor/src/spend.ts'

const MODEL_PORT = 4730
const OPENCODE_PORT = 4731

let worktree: TempWorktree
let model: ModelServer
let opencode: OpencodeProcess
let governor: Governor
let monitor: Monitor
let sessionId: string
const decisions: DecisionEvent[] = []
const held: HeldPermission[] = []
const errors: string[] = []

beforeAll(async () => {
  worktree = createWorktree('mcg-monitor-e2e-')
  model = await startModelServer(
    {
      governed: {
        turns: [
          {
            toolCalls: [{ name: 'write', args: { filePath: `${worktree.dir}/inside.txt`, content: 'inside\n' } }],
            usage: { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 },
          },
          {
            toolCalls: [{ name: 'write', args: { filePath: '../outside.txt', content: 'outside\n' } }],
            usage: { promptTokens: 1100, completionTokens: 40, cachedTokens: 900 },
          },
          {
            toolCalls: [{ name: 'bash', args: { command: 'npm install left-pad', description: 'Install left-pad' } }],
            usage: { promptTokens: 1200, completionTokens: 30, cachedTokens: 1000, reasoningTokens: 10 },
          },
          { text: 'Done.', usage: { promptTokens: 1300, completionTokens: 5, cachedTokens: 1100 } },
        ],
      },
    },
    { port: MODEL_PORT },
  )
  opencode = await startOpencode({ worktree: worktree.dir, modelServerUrl: model.url, port: OPENCODE_PORT })

  governor = new (loadAddon().Governor)()
  monitor = new Monitor({ governor, logger: silentLogger })
  monitor.addJob({ jobId: 'e2e', url: opencode.url, worktree: worktree.dir })
  monitor.on('decision', (event) => decisions.push(event))
  monitor.on('error', ({ error }) => errors.push(error.message))
  monitor.on('held', (request) => {
    held.push(request)
    // Reply as a user would, so the session can finish.
    void monitor.answer(request.permissionId, 'reject', 'the user declined').catch((error: unknown) => errors.push(String(error)))
  })
  const connected = new Promise<void>((resolve) => monitor.once('connected', () => resolve()))
  monitor.start()
  await connected

  const server = new OpencodeServer(opencode.url)
  sessionId = await server.createSession('monitor e2e')
  const idle = new Promise<void>((resolve) => {
    monitor.on('event', ({ event }) => {
      if (isIdle(event, sessionId)) resolve()
    })
  })
  await server.prompt(sessionId, '[script:governed] Write inside.txt, write ../outside.txt, install left-pad.')
  await idle
  await monitor.settle()
  // The last message and session updates can follow the idle status.
  await new Promise((resolve) => setTimeout(resolve, 1500))
}, 150_000)

afterAll(async () => {
  await monitor?.stop()
  await opencode?.close()
  await model?.close()
  worktree?.remove()
}, 30_000)

describe('monitor against opencode serve', () => {
  it('approves the write inside the worktree', () => {
    const inside = decisions.find((d) => d.outcome.actions.some((a) => a.target === join(worktree.dir, 'inside.txt')))
    expect(inside?.outcome.decision).toBe('auto-approve')
    expect(inside?.reply).toBe('once')
    expect(readFileSync(join(worktree.dir, 'inside.txt'), 'utf8')).toBe('inside\n')
  })

  it('rejects the write outside the worktree', () => {
    const outside = decisions.find((d) => d.outcome.actions.some((a) => a.scope === 'outside_worktree'))
    expect(outside?.outcome.decision).toBe('deny')
    expect(outside?.reply).toBe('reject')
    expect(existsSync(join(worktree.parent, 'outside.txt'))).toBe(false)
  })

  it('holds the package install', () => {
    const install = decisions.find((d) => d.outcome.category === 'install_packages')
    expect(install?.outcome.decision).toBe('ask-user')
    expect(install?.reply).toBeNull()
    expect(held.map((h) => [h.permissionId, h.cause])).toEqual([[install?.outcome.permissionId, 'ask-user']])
    expect(existsSync(join(worktree.dir, 'node_modules'))).toBe(false)
  })

  it("keeps OpenCode's unpacked files in its temporary HOME", () => {
    // The binary unpacks a native library on each start and leaves it; in the
    // system temp folder that added 5.5 MB per server, never removed.
    const unpacked = readdirSync(join(opencode.home, 'tmp')).filter((name) => name.endsWith('.so'))
    expect(unpacked.length).toBeGreaterThan(0)
  })

  it('reports no errors', () => {
    expect(errors).toEqual([])
  })

  it('matches the server session totals', async () => {
    const info = await new OpencodeServer(opencode.url).sessionInfo(sessionId)
    const tokens = info.tokens as { input: number; output: number; reasoning: number; cache: { read: number; write: number } }
    const summary = summarize(governor.report())
    const session = summary.sessions[sessionId]
    expect(session?.tokens).toEqual({
      input: tokens.input,
      output: tokens.output,
      reasoning: tokens.reasoning,
      cacheRead: tokens.cache.read,
      cacheWrite: tokens.cache.write,
    })
    expect(session?.costUsd).toBeCloseTo(info.cost as number, 9)
    expect(summary.tokens).toEqual(session?.tokens)
    expect(summary.costUsd).toBeCloseTo(info.cost as number, 9)
    expect(tokens.input).toBeGreaterThan(0)
  })
})
