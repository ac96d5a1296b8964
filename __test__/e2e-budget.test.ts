// End to end: budgets enforced on real `opencode serve` sessions. A job that
// crosses its own USD cap is paused, which aborts its session, and resumes
// after an extension. A plan cap pauses every job of the plan, on two
// servers. At the end, the governor's totals equal what each server reports.
//
// Each scripted step reports the same usage, so the spend after N steps is
// N * STEP_USD. A model proxy holds the third model call of every session
// until the test releases it. That keeps each session waiting for the model
// at a known point while the cap is crossed, so the abort always lands
// before the script's third step.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest'
import { loadAddon, type BudgetAction, type Governor } from '../monitor/src/addon.ts'
import { startModelServer, type Script } from '../monitor/src/harness/model-server.ts'
import { DEFAULT_COST, startOpencode } from '../monitor/src/harness/opencode-server.ts'
import { createWorktree, type TempWorktree } from '../monitor/src/harness/worktree.ts'
import { silentLogger } from '../monitor/src/log.ts'
import { Monitor } from '../monitor/src/monitor.ts'
import { OpencodeServer } from '../monitor/src/server.ts'
import { latch, startModelGate, type ModelGate } from './e2e/model-gate.ts'
import { MonitorLog, Teardown, addTokens, getJson, isBusy, reportTokens, serverTotals, sleep, type ServerTotals } from './e2e/governed.ts'

// Ports 4920-4939 belong to this file.
const MODEL_PORT = 4920
const GATE_PORT = 4921
const PORTS = { solo: 4922, left: 4923, right: 4924 } as const
type JobId = keyof typeof PORTS
const JOB_IDS = Object.keys(PORTS) as JobId[]
const PLAN = 'shared-plan'
const RESUME_PROMPT = 'continue'

/** Usage of every scripted step: 800 input, 50 output and 200 cache-read tokens. */
const STEP_USAGE = { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 }
/** USD of one step at the harness model's prices (USD per million tokens). */
const STEP_USD = (800 * DEFAULT_COST.input + 50 * DEFAULT_COST.output + 200 * (DEFAULT_COST.cache_read ?? 0)) / 1e6
/** The model call held until the test releases it: the script's third step. */
const HELD_TURN = 2

/** Writes `<name>-1.txt` ... `<name>-3.txt` in three steps, then finishes with text. */
function script(name: string): Script {
  const step = (n: number) => ({
    toolCalls: [{ name: 'bash', args: { command: `ls > ${name}-${n}.txt`, description: `List files into ${name}-${n}.txt` } }],
    usage: STEP_USAGE,
  })
  return { turns: [step(1), step(2), step(3), { text: 'Done.', usage: STEP_USAGE }] }
}

const teardown = new Teardown()
/** One latch per script: opening it lets that script's held model calls through. */
const releases = { solo: latch(), left: latch(), right: latch() } satisfies Record<JobId, ReturnType<typeof latch>>
let gate: ModelGate
let governor: Governor
let monitor: Monitor
let log: MonitorLog
let abortSpy: MockInstance<OpencodeServer['abort']>
const worktrees = {} as Record<JobId, TempWorktree>
const urls = {} as Record<JobId, string>
const sessions = {} as Record<JobId, string>

beforeAll(async () => {
  const model = teardown.add(await startModelServer({ solo: script('solo'), left: script('left'), right: script('right') }, { port: MODEL_PORT }), (server) => server.close())
  gate = teardown.add(
    await startModelGate(model.url, GATE_PORT, (call) => (call.title || call.turn < HELD_TURN ? undefined : releases[call.script as JobId]?.promise)),
    (proxy) => proxy.close(),
  )
  for (const job of JOB_IDS) worktrees[job] = teardown.add(createWorktree(`mcg-e2e-budget-${job}-`), (worktree) => worktree.remove())
  const servers = await Promise.all(JOB_IDS.map((job) => startOpencode({ worktree: worktrees[job].dir, modelServerUrl: gate.url, port: PORTS[job] })))
  for (const [index, job] of JOB_IDS.entries()) urls[job] = teardown.add(servers[index], (server) => server.close()).url

  // The monitor's aborts go through this method; the spy records them and calls through.
  abortSpy = vi.spyOn(OpencodeServer.prototype, 'abort')
  teardown.add(abortSpy, (spy) => spy.mockRestore())
  governor = new (loadAddon().Governor)()
  governor.registerPlan(PLAN, { plan: PLAN, budget: { usd: 3.5 * STEP_USD, warnAt: [50], onExceed: 'pause' } })
  monitor = new Monitor({ governor, logger: silentLogger, resumePrompt: RESUME_PROMPT })
  teardown.add(monitor, (m) => m.stop())
  log = new MonitorLog(monitor)
  monitor.addJob({ jobId: 'solo', url: urls.solo, worktree: worktrees.solo.dir, policy: { budget: { usd: 1.5 * STEP_USD, onExceed: 'pause' } } })
  monitor.addJob({ jobId: 'left', url: urls.left, worktree: worktrees.left.dir, planId: PLAN })
  monitor.addJob({ jobId: 'right', url: urls.right, worktree: worktrees.right.dir, planId: PLAN })
  monitor.start()
  await log.until('every stream to connect', () => log.connected.length >= JOB_IDS.length)
}, 120_000)

afterAll(() => {
  for (const job of JOB_IDS) releases[job].open()
  return teardown.run()
}, 30_000)

async function startSession(job: JobId): Promise<void> {
  const server = new OpencodeServer(urls[job])
  sessions[job] = await server.createSession(`budget ${job}`)
  await server.prompt(sessions[job], `[script:${job}] Write three listings.`)
}

function pauses(): Array<BudgetAction & { at: number }> {
  return log.budget.filter((event) => event.action.kind === 'pause').map((event) => ({ ...event.action, at: event.at }))
}

function forwardedTurns(job: JobId): number[] {
  return gate.forwarded.filter((call) => call.script === job).map((call) => call.turn)
}

/** Waits until the job's last scripted step has reached the model and the session has stopped after it. */
async function finished(job: JobId): Promise<void> {
  const last = () => gate.forwarded.find((call) => call.script === job && call.turn === 3)
  await log.until(`the ${job} script's last step`, () => last() !== undefined)
  await log.idleSince(sessions[job], last()?.at)
}

/** Assistant messages the server marked as aborted, which only `POST /session/{id}/abort` does here. */
async function abortedMessages(job: JobId): Promise<number> {
  const messages = (await getJson(urls[job], `/session/${sessions[job]}/message`)) as Array<{ info: { error?: { name?: string } } }>
  return messages.filter((message) => message.info.error?.name === 'MessageAbortedError').length
}

function listings(job: JobId): boolean[] {
  return [1, 2, 3].map((n) => existsSync(join(worktrees[job].dir, `${job}-${n}.txt`)))
}

describe('job cap', () => {
  beforeAll(async () => {
    await startSession('solo')
    await log.until('the solo job to pause', () => pauses().some((action) => action.jobId === 'solo'))
    await log.idleSince(sessions.solo, pauses()[0].at)
    await monitor.settle()
  }, 60_000)

  it('warns, then pauses past the cap', () => {
    const kinds = log.budget.filter((event) => event.jobId === 'solo').map((event) => [event.action.kind, event.action.thresholdPercent])
    expect(kinds).toEqual([
      ['warning', 50],
      ['warning', 75],
      ['warning', 90],
      ['pause', undefined],
    ])
    const pause = pauses().find((action) => action.jobId === 'solo')
    expect(pause?.sessions).toEqual([sessions.solo])
    expect(pause?.spentUsd).toBeCloseTo(2 * STEP_USD, 9)
    expect(governor.report().jobs.find((row) => row.id === 'solo')?.status).toBe('paused')
  })

  it('aborts the session before its third step', async () => {
    expect(abortSpy.mock.calls.map((call) => call[0])).toEqual([sessions.solo])
    expect(await abortedMessages('solo')).toBe(1)
    expect(await isBusy(urls.solo, sessions.solo)).toBe(false)
    expect(forwardedTurns('solo')).toEqual([0, 1])
    expect(listings('solo')).toEqual([true, true, false])
  })

  it('stays stopped while paused', async () => {
    await sleep(1500)
    expect(await isBusy(urls.solo, sessions.solo)).toBe(false)
    expect(forwardedTurns('solo')).toEqual([0, 1])
    expect(listings('solo')).toEqual([true, true, false])
  })

  it('finishes the script after an extension', async () => {
    releases.solo.open()
    const actions = monitor.extendJob('solo', { usd: 10 * STEP_USD })
    expect(actions.map((action) => action.kind)).toEqual(['resume'])

    await finished('solo')
    await monitor.settle()
    expect(forwardedTurns('solo')).toEqual([0, 1, 2, 3])
    expect(listings('solo')).toEqual([true, true, true])
    expect(governor.report().jobs.find((row) => row.id === 'solo')?.status).toBe('running')
  })
})

describe('plan cap', () => {
  beforeAll(async () => {
    abortSpy.mockClear()
    await Promise.all([startSession('left'), startSession('right')])
    await log.until('the plan to pause', () => pauses().some((action) => action.planId === PLAN))
    const pausedAt = pauses().find((action) => action.planId === PLAN)?.at
    await Promise.all([log.idleSince(sessions.left, pausedAt), log.idleSince(sessions.right, pausedAt)])
    await monitor.settle()
  }, 60_000)

  it('pauses both jobs at once', () => {
    const planPauses = pauses().filter((action) => action.planId === PLAN)
    expect(planPauses).toHaveLength(1)
    expect(planPauses[0].scope).toBe('plan')
    expect([...(planPauses[0].jobs ?? [])].sort()).toEqual(['left', 'right'])
    expect([...(planPauses[0].sessions ?? [])].sort()).toEqual([sessions.left, sessions.right].sort())
    expect(planPauses[0].spentUsd).toBeCloseTo(4 * STEP_USD, 9)
  })

  it('aborts a session on each server', async () => {
    expect(abortSpy.mock.calls.map((call) => call[0]).sort()).toEqual([sessions.left, sessions.right].sort())
    for (const job of ['left', 'right'] as const) {
      expect(await abortedMessages(job)).toBe(1)
      expect(await isBusy(urls[job], sessions[job])).toBe(false)
      expect(forwardedTurns(job)).toEqual([0, 1])
      expect(listings(job)).toEqual([true, true, false])
    }
  })

  it('resumes both jobs after a plan extension', async () => {
    releases.left.open()
    releases.right.open()
    const actions = monitor.extendPlan(PLAN, { usd: 10 * STEP_USD })
    expect(actions.map((action) => [action.kind, [...(action.jobs ?? [])].sort()])).toEqual([['resume', ['left', 'right']]])

    await Promise.all([finished('left'), finished('right')])
    await monitor.settle()
    for (const job of ['left', 'right'] as const) {
      expect(forwardedTurns(job)).toEqual([0, 1, 2, 3])
      expect(listings(job)).toEqual([true, true, true])
    }
  })
})

describe('final totals', () => {
  const server = {} as Record<JobId, ServerTotals>

  beforeAll(async () => {
    // The last message and session updates can follow the idle status.
    await sleep(1000)
    for (const job of JOB_IDS) server[job] = await serverTotals(urls[job], sessions[job])
  })

  it.each(JOB_IDS)('match the server for %s', (job) => {
    const report = governor.report()
    const session = report.sessions.find((row) => row.id === sessions[job])
    expect(server[job].session.tokens).toEqual(server[job].messages.tokens)
    expect(reportTokens(session)).toEqual(server[job].session.tokens)
    expect(Math.abs((session?.costUsd ?? NaN) - server[job].session.costUsd)).toBeLessThan(1e-9)
    expect(Math.abs((session?.costUsd ?? NaN) - server[job].messages.costUsd)).toBeLessThan(1e-9)
    const jobRow = report.jobs.find((row) => row.id === job)
    expect(reportTokens(jobRow)).toEqual(server[job].session.tokens)
    expect(Math.abs((jobRow?.costUsd ?? NaN) - server[job].session.costUsd)).toBeLessThan(1e-9)
    expect(server[job].session.costUsd).toBeCloseTo(4 * STEP_USD, 9)
  })

  it('sums both jobs for the plan', () => {
    const plan = governor.report().plans.find((row) => row.id === PLAN)
    expect(reportTokens(plan)).toEqual(addTokens(server.left.session.tokens, server.right.session.tokens))
    expect(Math.abs((plan?.costUsd ?? NaN) - (server.left.session.costUsd + server.right.session.costUsd))).toBeLessThan(1e-9)
  })

  it('reports no monitor errors', () => {
    expect(log.errors).toEqual([])
  })
})
