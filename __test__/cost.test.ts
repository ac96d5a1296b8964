// Cost tracking and budgets through the addon, on real captured streams.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Governor, type BudgetAction } from '../index.js'

const capturesDir = join(__dirname, '..', 'fixtures', 'captures')

interface Sidecar {
  worktree: string
  serverTotals: Array<{
    sessionId: string
    sum: { cost: number; input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number }
  }>
}

function dataLines(name: string): string[] {
  return readFileSync(join(capturesDir, `${name}.sse`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('data:'))
}

function sidecar(name: string): Sidecar {
  return JSON.parse(readFileSync(join(capturesDir, `${name}.json`), 'utf8')) as Sidecar
}

const captureNames = readdirSync(capturesDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''))

describe('ledger on captured streams', () => {
  for (const name of captureNames) {
    it(`${name} totals equal the server's`, () => {
      const facts = sidecar(name)
      const governor = new Governor()
      governor.registerJob({ jobId: 'job', worktree: facts.worktree })
      // Twice: a replay after a reconnect must count nothing again.
      for (let pass = 0; pass < 2; pass += 1) {
        for (const line of dataLines(name)) governor.handleEvent('job', line)
      }

      const report = governor.report()
      for (const server of facts.serverTotals) {
        const session = report.sessions.find((row) => row.id === server.sessionId)
        expect(session, server.sessionId).toBeDefined()
        expect(session?.tokens.input).toBe(server.sum.input)
        expect(session?.tokens.output).toBe(server.sum.output)
        expect(session?.tokens.reasoning).toBe(server.sum.reasoning)
        expect(session?.tokens.cacheRead).toBe(server.sum.cacheRead)
        expect(session?.tokens.cacheWrite).toBe(server.sum.cacheWrite)
        expect(session?.costUsd).toBeCloseTo(server.sum.cost, 9)
        expect(session?.costSource).toBe('reported')
      }
      const serverCost = facts.serverTotals.reduce((sum, server) => sum + server.sum.cost, 0)
      expect(report.jobs[0].costUsd).toBeCloseTo(serverCost, 9)
    })
  }
})

describe('budgets', () => {
  const name = 'multi-step'
  const facts = sidecar(name)

  function governorWithCap(usd: number, onExceed: string): Governor {
    const governor = new Governor()
    governor.registerPlan('plan', { budget: { job: { usd, onExceed } } })
    governor.registerJob({ jobId: 'job', planId: 'plan', worktree: facts.worktree })
    return governor
  }

  function replay(governor: Governor, lines: string[]): BudgetAction[] {
    return lines.flatMap((line) => governor.handleEvent('job', line).budgetActions)
  }

  it('warns once per threshold and pauses past the cap', () => {
    // The session costs $0.01179 in four steps, so a $0.01 cap is crossed.
    const governor = governorWithCap(0.01, 'pause')
    const actions = replay(governor, dataLines(name))
    const warnings = actions.filter((action) => action.kind === 'warning').map((action) => action.thresholdPercent)
    expect(warnings).toEqual([50, 75, 90])
    const pauses = actions.filter((action) => action.kind === 'pause')
    expect(pauses).toHaveLength(1)
    expect(pauses[0].jobs).toEqual(['job'])
    expect(pauses[0].sessions).toEqual([facts.serverTotals[0].sessionId])
    expect(pauses[0].capUsd).toBe(0.01)

    expect(replay(governor, dataLines(name))).toEqual([])
  })

  it('resumes a paused job when extended', () => {
    const governor = governorWithCap(0.01, 'pause')
    replay(governor, dataLines(name))
    const resumed = governor.extendJob('job', { usd: 0.05 })
    expect(resumed.map((action) => action.kind)).toEqual(['resume'])
    expect(governor.report().jobs[0].status).toBe('running')
  })

  it('kills on a hard-kill cap and keeps counting', () => {
    const governor = governorWithCap(0.005, 'hard-kill')
    const actions = replay(governor, dataLines(name))
    expect(actions.filter((action) => action.kind === 'kill')).toHaveLength(1)
    expect(governor.report().jobs[0].status).toBe('killed')
    expect(governor.report().jobs[0].costUsd).toBeCloseTo(0.01179, 9)
  })

  it('rejects a negative extension', () => {
    const governor = governorWithCap(0.01, 'pause')
    expect(() => governor.extendJob('job', { usd: -1 })).toThrow(/usd/)
  })
})

describe('snapshot', () => {
  it('restores mid-stream without double counting or repeating warnings', () => {
    const facts = sidecar('multi-step')
    const lines = dataLines('multi-step')
    const half = Math.floor(lines.length / 2)
    const register = (governor: Governor) => {
      governor.registerPlan('plan', { budget: { job: { usd: 0.02, onExceed: 'notify-only' } } })
      governor.registerJob({ jobId: 'job', planId: 'plan', worktree: facts.worktree })
    }

    const first = new Governor()
    register(first)
    const before = lines.slice(0, half).flatMap((line) => first.handleEvent('job', line).budgetActions)
    const saved = first.snapshot()
    expect(JSON.parse(saved).version).toBe(1)

    const second = Governor.restore(saved)
    register(second)
    // The restarted monitor replays the whole stream from the start.
    const after = lines.flatMap((line) => second.handleEvent('job', line).budgetActions)
    const thresholds = [...before, ...after].filter((action) => action.kind === 'warning').map((action) => action.thresholdPercent)
    expect(thresholds).toEqual([...new Set(thresholds)])
    expect(second.report().jobs[0].costUsd).toBeCloseTo(0.01179, 9)
    expect(second.report().jobs[0].tokens.cacheRead).toBe(7300)
  })

  it('rejects a snapshot of another version', () => {
    expect(() => Governor.restore(JSON.stringify({ version: 99, cost: {} }))).toThrow(
      'invalid snapshot: unsupported version 99, expected 1',
    )
  })
})

describe('permissions of a stopped job', () => {
  const facts = sidecar('multi-step')
  const edit = (id: string) => ({
    type: 'permission.asked',
    properties: { id, sessionID: 'ses_x', permission: 'edit', patterns: ['a.txt'], metadata: { filepath: `${facts.worktree}/a.txt` }, always: [] },
  })

  it('holds requests of a paused job', () => {
    const governor = new Governor()
    governor.registerPlan('plan', { budget: { job: { usd: 0.001, onExceed: 'pause' } } })
    governor.registerJob({ jobId: 'job', planId: 'plan', worktree: facts.worktree })
    expect(governor.handleEvent('job', edit('p1')).permission?.decision).toBe('auto-approve')
    for (const line of dataLines('multi-step')) governor.handleEvent('job', line)

    const held = governor.handleEvent('job', edit('p2')).permission
    expect(held?.decision).toBe('ask-user')
    expect(held?.rule).toBe('budget.paused')
    expect(held?.reason).toBe('job "job" is paused by its budget, so "edit" is ask-user')

    governor.extendJob('job', { usd: 1 })
    expect(governor.handleEvent('job', edit('p3')).permission?.decision).toBe('auto-approve')
  })

  it('denies requests of a killed job', () => {
    const governor = new Governor()
    governor.registerPlan('plan', { budget: { job: { usd: 0.001, onExceed: 'hard-kill' } } })
    governor.registerJob({ jobId: 'job', planId: 'plan', worktree: facts.worktree })
    for (const line of dataLines('multi-step')) governor.handleEvent('job', line)
    const denied = governor.handleEvent('job', edit('p1')).permission
    expect(denied?.decision).toBe('deny')
    expect(denied?.rule).toBe('budget.killed')
  })
})
