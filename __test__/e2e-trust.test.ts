// End to end: one plan, two jobs under different trust levels, each with its
// own worktree and `opencode serve`, governed by one Monitor. Both agents
// run the same script, so any difference in outcome comes from the policy.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAddon, type Governor } from '../monitor/src/addon.ts'
import { startModelServer } from '../monitor/src/harness/model-server.ts'
import { startOpencode } from '../monitor/src/harness/opencode-server.ts'
import { createWorktree, type TempWorktree } from '../monitor/src/harness/worktree.ts'
import { silentLogger } from '../monitor/src/log.ts'
import { Monitor, type DecisionEvent } from '../monitor/src/monitor.ts'
import { OpencodeServer } from '../monitor/src/server.ts'
import { MonitorLog, Teardown, toolParts } from './e2e/governed.ts'

// Ports 4900-4919 belong to this file.
const MODEL_PORT = 4900
const PORTS = { regular: 4901, careful: 4902 } as const
const PLAN = 'trust-plan'
const JOBS = ['regular', 'careful'] as const
type JobId = (typeof JOBS)[number]

const USER_MESSAGE = 'the user declined this request'
const LIST_COMMAND = 'ls > listing.txt'
const INSTALL_COMMAND = 'npm install left-pad'

const teardown = new Teardown()
let governor: Governor
let log: MonitorLog
const worktrees = {} as Record<JobId, TempWorktree>
const urls = {} as Record<JobId, string>
const sessions = {} as Record<JobId, string>
/** Whether `listing.txt` existed at the moment each held request was reported. */
const listingWhenHeld = new Map<string, boolean>()

beforeAll(async () => {
  const model = teardown.add(
    await startModelServer(
      {
        same: {
          turns: [
            { toolCalls: [{ name: 'bash', args: { command: LIST_COMMAND, description: 'List the files' } }], usage: { promptTokens: 900, completionTokens: 40, cachedTokens: 100 } },
            { toolCalls: [{ name: 'bash', args: { command: INSTALL_COMMAND, description: 'Install left-pad' } }], usage: { promptTokens: 1000, completionTokens: 30, cachedTokens: 800 } },
            { text: 'Done.', usage: { promptTokens: 1100, completionTokens: 5, cachedTokens: 900 } },
          ],
        },
      },
      { port: MODEL_PORT },
    ),
    (server) => server.close(),
  )
  for (const job of JOBS) worktrees[job] = teardown.add(createWorktree(`mcg-e2e-trust-${job}-`), (worktree) => worktree.remove())
  const servers = await Promise.all(
    JOBS.map((job) => startOpencode({ worktree: worktrees[job].dir, modelServerUrl: model.url, port: PORTS[job] })),
  )
  for (const [index, job] of JOBS.entries()) urls[job] = teardown.add(servers[index], (server) => server.close()).url

  governor = new (loadAddon().Governor)()
  governor.registerPlan(PLAN, { plan: PLAN, jobs: { regular: { trust: 'standard' }, careful: { trust: 'restricted' } } })
  const monitor = new Monitor({ governor, logger: silentLogger })
  teardown.add(monitor, (m) => m.stop())
  log = new MonitorLog(monitor)
  monitor.on('held', (request) => {
    const job = request.jobId as JobId
    listingWhenHeld.set(request.permissionId, existsSync(join(worktrees[job].dir, 'listing.txt')))
    // The simulated user declines whatever is held, so both sessions finish.
    void monitor.answer(request.permissionId, 'reject', USER_MESSAGE).catch((error: unknown) => log.errors.push(String(error)))
  })
  for (const job of JOBS) monitor.addJob({ jobId: job, url: urls[job], worktree: worktrees[job].dir, planId: PLAN })
  monitor.start()
  await log.until('both streams to connect', () => log.connected.length >= JOBS.length)

  await Promise.all(
    JOBS.map(async (job) => {
      const server = new OpencodeServer(urls[job])
      sessions[job] = await server.createSession(`trust ${job}`)
      await server.prompt(sessions[job], '[script:same] List the files, then install left-pad.')
    }),
  )
  await Promise.all(JOBS.map((job) => log.idleSince(sessions[job], 0, 60_000)))
  await monitor.settle()
}, 120_000)

afterAll(() => teardown.run(), 30_000)

function decisionFor(job: JobId, command: string): DecisionEvent | undefined {
  return log.decisions.find((d) => d.jobId === job && d.outcome.actions.some((action) => action.target === command))
}

async function bashPart(job: JobId, command: string) {
  const parts = await toolParts(urls[job], sessions[job])
  return parts.find((part) => part.tool === 'bash' && part.input.command === command)
}

describe('trust levels within one plan', () => {
  it('auto-approves the listing for standard', async () => {
    const decision = decisionFor('regular', LIST_COMMAND)
    expect(decision?.outcome.decision).toBe('auto-approve')
    expect(decision?.outcome.rule).toContain('trust "standard"')
    expect(decision?.reply).toBe('once')

    expect(readFileSync(join(worktrees.regular.dir, 'listing.txt'), 'utf8')).toContain('README.md')
    expect((await bashPart('regular', LIST_COMMAND))?.status).toBe('completed')
  })

  it('holds the listing for restricted', async () => {
    const decision = decisionFor('careful', LIST_COMMAND)
    expect(decision?.outcome.decision).toBe('ask-user')
    expect(decision?.outcome.rule).toContain('trust "restricted"')
    expect(decision?.reply).toBeNull()

    const held = log.held.find((request) => request.permissionId === decision?.outcome.permissionId)
    expect(held?.cause).toBe('ask-user')
    expect(listingWhenHeld.get(held?.permissionId ?? '')).toBe(false)
    expect(existsSync(join(worktrees.careful.dir, 'listing.txt'))).toBe(false)

    const part = await bashPart('careful', LIST_COMMAND)
    expect(part?.status).toBe('error')
    expect(part?.error).toContain(USER_MESSAGE)
  })

  it('holds the install for standard', async () => {
    const decision = decisionFor('regular', INSTALL_COMMAND)
    expect(decision?.outcome.category).toBe('install_packages')
    expect(decision?.outcome.decision).toBe('ask-user')
    expect(decision?.reply).toBeNull()
    expect(log.held.map((request) => request.permissionId)).toContain(decision?.outcome.permissionId)

    const part = await bashPart('regular', INSTALL_COMMAND)
    expect(part?.status).toBe('error')
    expect(part?.error).toContain(USER_MESSAGE)
    expect(existsSync(join(worktrees.regular.dir, 'node_modules'))).toBe(false)
  })

  it('denies the install for restricted', async () => {
    const decision = decisionFor('careful', INSTALL_COMMAND)
    expect(decision?.outcome.category).toBe('install_packages')
    expect(decision?.outcome.decision).toBe('deny')
    expect(decision?.outcome.rule).toContain('trust "restricted"')
    expect(decision?.reply).toBe('reject')
    expect(log.held.map((request) => request.permissionId)).not.toContain(decision?.outcome.permissionId)

    // The governor's reason reaches the agent as the rejection message.
    const part = await bashPart('careful', INSTALL_COMMAND)
    expect(part?.status).toBe('error')
    expect(part?.error).toContain(decision?.outcome.reason)
    expect(part?.error).not.toContain(USER_MESSAGE)
    expect(existsSync(join(worktrees.careful.dir, 'node_modules'))).toBe(false)
  })

  it('counts decisions per job and plan', () => {
    expect(governor.jobStatus('regular').total).toEqual({ autoApprove: 1, askUser: 1, deny: 0 })
    expect(governor.jobStatus('careful').total).toEqual({ autoApprove: 0, askUser: 1, deny: 1 })
    expect(governor.planStatus(PLAN).total).toEqual({ autoApprove: 1, askUser: 2, deny: 1 })
  })

  it('keeps sessions on their own jobs', () => {
    const report = governor.report()
    for (const job of JOBS) {
      expect(report.sessions.find((row) => row.id === sessions[job])?.parent).toBe(job)
      expect(report.jobs.find((row) => row.id === job)?.parent).toBe(PLAN)
    }
  })

  it('reports no monitor errors', () => {
    expect(log.errors).toEqual([])
  })
})
