// End to end: three jobs on three `opencode serve` processes, two sessions
// each, all streaming at once through one Monitor and one Governor. One
// session also starts a subagent. Every session's usage differs, so usage
// counted against the wrong job or session changes some total.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAddon, type Governor } from '../monitor/src/addon.ts'
import { startModelServer, type Script, type Scripts, type TurnUsage } from '../monitor/src/harness/model-server.ts'
import { startOpencode } from '../monitor/src/harness/opencode-server.ts'
import { createWorktree, type TempWorktree } from '../monitor/src/harness/worktree.ts'
import { silentLogger } from '../monitor/src/log.ts'
import { Monitor } from '../monitor/src/monitor.ts'
import { OpencodeServer } from '../monitor/src/server.ts'
import { MonitorLog, Teardown, addTokens, getJson, reportTokens, serverTotals, sleep, type ServerTotals, type Tokens } from './e2e/governed.ts'

// Ports 4940-4959 belong to this file.
const MODEL_PORT = 4940
const JOBS = [
  { jobId: 'alpha', port: 4941, index: 1 },
  { jobId: 'beta', port: 4942, index: 2 },
  { jobId: 'gamma', port: 4943, index: 3 },
] as const
type JobId = (typeof JOBS)[number]['jobId']
const SESSION_NAMES = ['a', 'b'] as const
/** The session that delegates to a subagent. */
const DELEGATING = { jobId: 'alpha', name: 'a' } as const

/** Usage unique to a job, session and turn: the job in the thousands, the session in the hundreds. */
function usage(job: number, session: number, turn: number): TurnUsage {
  return {
    promptTokens: 1000 * job + 100 * session + 10 * turn + 7,
    completionTokens: 20 * job + 5 * session + turn + 3,
    // At 0.3 USD per million cache-read tokens, a count ending in 5 costs a
    // half micro-dollar, a rounding tie; 3 * turn + 1 never ends in 5 here.
    cachedTokens: 100 * job + 10 * session + 3 * turn + 1,
    reasoningTokens: turn === 0 ? job + session : 0,
  }
}

/** Lists the worktree into one file, writes another, then finishes; the delegating session also starts a subagent. */
function sessionScripts(worktree: string, job: number, session: number, name: string, delegate: boolean): Scripts {
  const turns: Script['turns'] = [
    { toolCalls: [{ name: 'bash', args: { command: `ls > ${name}-listing.txt`, description: 'List files' } }], usage: usage(job, session, 0) },
    { toolCalls: [{ name: 'write', args: { filePath: join(worktree, `${name}-note.txt`), content: `${name}\n` } }], usage: usage(job, session, 1) },
  ]
  const scripts: Scripts = {}
  if (delegate) {
    turns.push({
      toolCalls: [{ name: 'task', args: { description: 'Write a note', prompt: `[script:${name}-child] Write the child note.`, subagent_type: 'general' } }],
      usage: usage(job, session, 2),
    })
    scripts[`${name}-child`] = {
      turns: [
        { toolCalls: [{ name: 'write', args: { filePath: join(worktree, `${name}-child.txt`), content: 'child\n' } }], usage: usage(job, 9, 0) },
        { text: 'Wrote the child note.', usage: usage(job, 9, 1) },
      ],
    }
  }
  turns.push({ text: 'Done.', usage: usage(job, session, 3) })
  scripts[name] = { turns }
  return scripts
}

function scriptName(jobId: string, session: string): string {
  return `${jobId}-${session}`
}

const teardown = new Teardown()
let governor: Governor
let log: MonitorLog
const worktrees = {} as Record<JobId, TempWorktree>
const urls = {} as Record<JobId, string>
/** Root sessions per job, in `SESSION_NAMES` order. */
const roots = {} as Record<JobId, string[]>
/** Every session each server has after the run, children included. */
const serverSessions = {} as Record<JobId, Array<{ id: string; parentID?: string }>>
const totals = new Map<string, ServerTotals>()

beforeAll(async () => {
  for (const { jobId } of JOBS) worktrees[jobId] = teardown.add(createWorktree(`mcg-e2e-conc-${jobId}-`), (worktree) => worktree.remove())
  const scripts: Scripts = {}
  for (const { jobId, index } of JOBS) {
    for (const [position, session] of SESSION_NAMES.entries()) {
      const delegate = jobId === DELEGATING.jobId && session === DELEGATING.name
      Object.assign(scripts, sessionScripts(worktrees[jobId].dir, index, position + 1, scriptName(jobId, session), delegate))
    }
  }
  const model = teardown.add(await startModelServer(scripts, { port: MODEL_PORT }), (server) => server.close())
  const servers = await Promise.all(JOBS.map(({ jobId, port }) => startOpencode({ worktree: worktrees[jobId].dir, modelServerUrl: model.url, port })))
  for (const [position, { jobId }] of JOBS.entries()) urls[jobId] = teardown.add(servers[position], (server) => server.close()).url

  governor = new (loadAddon().Governor)()
  const monitor = new Monitor({ governor, logger: silentLogger })
  teardown.add(monitor, (m) => m.stop())
  log = new MonitorLog(monitor)
  for (const { jobId } of JOBS) monitor.addJob({ jobId, url: urls[jobId], worktree: worktrees[jobId].dir })
  monitor.start()
  await log.until('every stream to connect', () => log.connected.length >= JOBS.length)

  // Create every session first, then prompt them all at once.
  for (const { jobId } of JOBS) {
    const server = new OpencodeServer(urls[jobId])
    roots[jobId] = await Promise.all(SESSION_NAMES.map((session) => server.createSession(scriptName(jobId, session))))
  }
  await Promise.all(
    JOBS.flatMap(({ jobId }) =>
      SESSION_NAMES.map((session, position) => new OpencodeServer(urls[jobId]).prompt(roots[jobId][position], `[script:${scriptName(jobId, session)}] Go.`)),
    ),
  )
  const rootNames = new Set(JOBS.flatMap(({ jobId }) => SESSION_NAMES.map((session) => scriptName(jobId, session))))
  const isLastTurn = (script: string | null, turn: number | null) => script !== null && rootNames.has(script) && turn === (scripts[script]?.turns.length ?? 0) - 1
  const finished = () => model.requests.filter((request) => request.kind === 'turn' && isLastTurn(request.script, request.turn)).length
  await log.until('every root script to reach its last step', () => finished() === rootNames.size, 75_000)
  await Promise.all(JOBS.flatMap(({ jobId }) => roots[jobId].map((sessionId) => log.idleSince(sessionId))))
  await monitor.settle()
  // The last message and session updates can follow the idle status.
  await sleep(1000)

  for (const { jobId } of JOBS) {
    serverSessions[jobId] = (await getJson(urls[jobId], '/session')) as Array<{ id: string; parentID?: string }>
    for (const session of serverSessions[jobId]) totals.set(session.id, await serverTotals(urls[jobId], session.id))
  }
}, 150_000)

afterAll(() => teardown.run(), 30_000)

function sumTokens(sessionIds: string[]): Tokens {
  return sessionIds.map((id) => totals.get(id)?.session.tokens).reduce<Tokens>((sum, tokens) => (tokens ? addTokens(sum, tokens) : sum), { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 })
}

/** Sums the servers' USD with each message rounded to whole micro-dollars, as the ledger counts it. */
function sumUsd(sessionIds: string[]): number {
  return sessionIds.reduce((sum, id) => sum + (totals.get(id)?.messages.roundedMicros ?? 0), 0) / 1e6
}

describe('three jobs at once', () => {
  it('finds a subagent only where one ran', () => {
    for (const { jobId } of JOBS) {
      const children = serverSessions[jobId].filter((session) => session.parentID !== undefined)
      const expected = jobId === DELEGATING.jobId ? [roots[jobId][0]] : []
      expect(children.map((child) => child.parentID)).toEqual(expected)
      expect(serverSessions[jobId]).toHaveLength(SESSION_NAMES.length + expected.length)
    }
  })

  it.each(JOBS.map(({ jobId }) => jobId))('matches every %s session to its server', (jobId) => {
    const report = governor.report()
    for (const { id } of serverSessions[jobId]) {
      const row = report.sessions.find((session) => session.id === id)
      const server = totals.get(id)
      expect(row?.parent).toBe(jobId)
      expect(server?.session.tokens).toEqual(server?.messages.tokens)
      expect(reportTokens(row)).toEqual(server?.session.tokens)
      expect(Math.abs((row?.costUsd ?? NaN) - (server?.messages.roundedMicros ?? NaN) / 1e6)).toBeLessThan(1e-9)
      // NOTE: the ledger keeps whole micro-dollars per message, so its USD can
      // differ from the server's float sum by up to half a micro-dollar per
      // message when a message's cost has a fraction of a micro-dollar.
      expect(Math.abs((row?.costUsd ?? NaN) - (server?.session.costUsd ?? NaN))).toBeLessThanOrEqual(0.5e-6 * (server?.messages.count ?? 0) + 1e-12)
    }
  })

  it.each(JOBS.map(({ jobId }) => jobId))('sums only its own sessions for %s', (jobId) => {
    const ids = serverSessions[jobId].map((session) => session.id)
    const row = governor.report().jobs.find((job) => job.id === jobId)
    expect(reportTokens(row)).toEqual(sumTokens(ids))
    expect(Math.abs((row?.costUsd ?? NaN) - sumUsd(ids))).toBeLessThan(1e-9)
  })

  it('counts each session once', () => {
    const report = governor.report()
    const allIds = JOBS.flatMap(({ jobId }) => serverSessions[jobId].map((session) => session.id))
    expect(report.sessions.map((row) => row.id).sort()).toEqual([...allIds].sort())
    expect(reportTokens(report.total)).toEqual(sumTokens(allIds))
    expect(Math.abs(report.total.costUsd - sumUsd(allIds))).toBeLessThan(1e-9)
  })

  it('decides each request for its own job', () => {
    for (const decision of log.decisions) {
      const owner = JOBS.find(({ jobId }) => serverSessions[jobId].some((session) => session.id === decision.outcome.sessionId))
      expect(owner?.jobId).toBe(decision.jobId)
      expect(decision.outcome.decision).toBe('auto-approve')
      for (const action of decision.outcome.actions) expect(action.scope).toBe('inside_worktree')
    }
    // Two requests per root session (the listing and the note), plus the subagent's note.
    expect(log.decisions).toHaveLength(JOBS.length * SESSION_NAMES.length * 2 + 1)
    expect(log.held).toEqual([])
  })

  it('writes files only in their own worktree', () => {
    for (const { jobId } of JOBS) {
      for (const other of JOBS) {
        for (const session of SESSION_NAMES) {
          const name = scriptName(other.jobId, session)
          expect(existsSync(join(worktrees[jobId].dir, `${name}-listing.txt`))).toBe(other.jobId === jobId)
          expect(existsSync(join(worktrees[jobId].dir, `${name}-note.txt`))).toBe(other.jobId === jobId)
        }
      }
    }
    expect(existsSync(join(worktrees.alpha.dir, `${scriptName(DELEGATING.jobId, DELEGATING.name)}-child.txt`))).toBe(true)
  })

  it('reports no monitor errors', () => {
    expect(log.errors).toEqual([])
  })
})
