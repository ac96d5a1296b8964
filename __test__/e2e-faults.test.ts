// End to end: the monitor's event stream fails mid-job. In the first case the
// `opencode serve` process is killed between two steps and a new one starts
// on the same port, data folder and worktree. In the second the network
// between monitor and server goes down while the agent keeps working. In both
// the monitor must reconnect with backoff, approve nothing while it is
// disconnected, decide again afterwards, and end with the server's own totals.

import { existsSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAddon, type Governor } from '../monitor/src/addon.ts'
import { startModelServer, type ModelServer, type Script } from '../monitor/src/harness/model-server.ts'
import { startOpencode } from '../monitor/src/harness/opencode-server.ts'
import { createWorktree, type TempWorktree } from '../monitor/src/harness/worktree.ts'
import { silentLogger } from '../monitor/src/log.ts'
import { Monitor, type DecisionEvent } from '../monitor/src/monitor.ts'
import { OpencodeServer } from '../monitor/src/server.ts'
import { startCutProxy, type CutProxy } from './e2e/cut-proxy.ts'
import { latch, startModelGate, type ChatCall, type ModelGate } from './e2e/model-gate.ts'
import { startRestartableOpencode, type RestartableOpencode } from './e2e/opencode-process.ts'
import { MonitorLog, Teardown, getJson, reportTokens, serverTotals, sleep } from './e2e/governed.ts'

// Ports 4960-4979 belong to this file; the fake server below takes 4970.
const MODEL_PORT = 4960
const GATE_PORT = 4961
const RESTART_PORT = 4962
const DROP_PORT = 4963
const PROXY_PORT = 4964

/** Reconnect delays without jitter, so the test can check the sequence: 100, 200, 400, 800, 800, ... ms. */
const BACKOFF = { initialMs: 100, maxMs: 800, jitter: 0 }
/** A restarting server can leave a connection unanswered; give up on it after this many ms. */
const CONNECT_TIMEOUT_MS = 3000
const STEP_USAGE = { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 }

function bash(command: string) {
  return { toolCalls: [{ name: 'bash', args: { command, description: `Run ${command}` } }], usage: STEP_USAGE }
}

const scripts = (worktree: { restart: string; drop: string }): Record<string, Script> => ({
  restart: { turns: [bash('ls > before.txt'), bash('ls > after.txt'), { text: 'Done.', usage: STEP_USAGE }] },
  drop: {
    turns: [
      bash('ls > first.txt'),
      // `read` asks for no permission, so this step finishes while the monitor is cut off.
      { toolCalls: [{ name: 'read', args: { filePath: join(worktree.drop, 'README.md') } }], usage: { promptTokens: 1200, completionTokens: 30, cachedTokens: 900 } },
      bash('ls > second.txt'),
      { text: 'Done.', usage: STEP_USAGE },
    ],
  },
})

/** Gates that hold one model call of a script until the test opens them. */
const holds = {
  restart: { turn: 1, arrived: latch(), release: latch() },
  drop: { turn: 1, arrived: latch(), release: latch() },
}

function hold(call: ChatCall): Promise<void> | undefined {
  const gate = call.script === 'restart' || call.script === 'drop' ? holds[call.script] : undefined
  if (!gate || call.turn !== gate.turn) return undefined
  gate.arrived.open()
  return gate.release.promise
}

const teardown = new Teardown()
let model: ModelServer
let gate: ModelGate
const worktrees = {} as { restart: TempWorktree; drop: TempWorktree }

beforeAll(async () => {
  worktrees.restart = teardown.add(createWorktree('mcg-e2e-faults-restart-'), (worktree) => worktree.remove())
  worktrees.drop = teardown.add(createWorktree('mcg-e2e-faults-drop-'), (worktree) => worktree.remove())
  model = teardown.add(await startModelServer(scripts({ restart: worktrees.restart.dir, drop: worktrees.drop.dir }), { port: MODEL_PORT }), (server) => server.close())
  gate = teardown.add(await startModelGate(model.url, GATE_PORT, hold), (proxy) => proxy.close())
}, 30_000)

afterAll(() => {
  for (const { release } of Object.values(holds)) release.open()
  return teardown.run()
}, 30_000)

function lastTurnForwarded(script: string, turn: number): number | undefined {
  return gate.forwarded.find((call) => call.script === script && call.turn === turn)?.at
}

/** A governed job: its own governor and monitor, with the event log. */
function governedJob(jobId: string, url: string, worktree: string): { governor: Governor; monitor: Monitor; log: MonitorLog } {
  const governor = new (loadAddon().Governor)()
  const monitor = new Monitor({ governor, logger: silentLogger, backoff: BACKOFF, connectTimeoutMs: CONNECT_TIMEOUT_MS })
  teardown.add(monitor, (m) => m.stop())
  const log = new MonitorLog(monitor)
  monitor.addJob({ jobId, url, worktree })
  monitor.start()
  return { governor, monitor, log }
}

function expectBackoff(delays: number[]): void {
  expect(delays.length).toBeGreaterThanOrEqual(3)
  delays.forEach((delay, index) => expect(delay).toBe(Math.min(BACKOFF.initialMs * 2 ** index, BACKOFF.maxMs)))
}

function decisionOn(decisions: Array<DecisionEvent & { at: number }>, command: string) {
  return decisions.find((decision) => decision.outcome.actions.some((action) => action.target === command))
}

async function expectServerTotals(governor: Governor, url: string, sessionId: string): Promise<void> {
  const server = await serverTotals(url, sessionId)
  const row = governor.report().sessions.find((session) => session.id === sessionId)
  expect(server.session.tokens).toEqual(server.messages.tokens)
  expect(reportTokens(row)).toEqual(server.session.tokens)
  expect(Math.abs((row?.costUsd ?? NaN) - server.session.costUsd)).toBeLessThan(1e-9)
  expect(row?.requests).toBe(server.messages.count)
}

describe('server killed between steps', () => {
  let opencode: RestartableOpencode
  let job: ReturnType<typeof governedJob>
  let sessionId: string
  const times = { crashed: 0, restarted: 0, reconnected: 0 }

  beforeAll(async () => {
    opencode = teardown.add(await startRestartableOpencode({ worktree: worktrees.restart.dir, modelServerUrl: gate.url, port: RESTART_PORT }), (server) => server.close())
    job = governedJob('restart', opencode.url, worktrees.restart.dir)
    await job.log.until('the stream to connect', () => job.log.connected.length === 1)
    sessionId = await new OpencodeServer(opencode.url).createSession('restart')
    await new OpencodeServer(opencode.url).prompt(sessionId, '[script:restart] List the files twice.')

    // The first step has run; the second waits for the model when the server dies.
    await holds.restart.arrived.promise
    times.crashed = Date.now()
    await opencode.crash()
    holds.restart.release.open()
    await job.log.until('three failed reconnects', () => job.log.reconnects.length >= 3)

    await opencode.restart()
    times.restarted = Date.now()
    await job.log.until('the stream to reconnect', () => job.log.connected.length === 2)
    times.reconnected = job.log.connected[1].at

    // The new server does not continue the interrupted turn by itself.
    await new OpencodeServer(opencode.url).prompt(sessionId, 'continue')
    await job.log.until('the last step', () => lastTurnForwarded('restart', 2) !== undefined)
    await job.log.idleSince(sessionId, lastTurnForwarded('restart', 2))
    await job.monitor.settle()
    await sleep(1000)
  }, 90_000)

  it('reconnects with growing delays', () => {
    expect(job.log.reconnects.map((event) => event.attempt)).toEqual(job.log.reconnects.map((_, index) => index + 1))
    expectBackoff(job.log.reconnects.map((event) => event.delayMs))
    expect(job.log.reconnects.every((event) => event.at >= times.crashed)).toBe(true)
  })

  it('keeps the session in the data folder', async () => {
    const info = (await getJson(opencode.url, `/session/${sessionId}`)) as { id: string }
    expect(info.id).toBe(sessionId)
    expect(existsSync(join(worktrees.restart.dir, 'before.txt'))).toBe(true)
  })

  it('decides nothing while the server is down', () => {
    const during = job.log.decisions.filter((decision) => decision.at > times.crashed && decision.at < times.reconnected)
    expect(during).toEqual([])
  })

  it('decides again after reconnecting', () => {
    const before = decisionOn(job.log.decisions, 'ls > before.txt')
    const after = decisionOn(job.log.decisions, 'ls > after.txt')
    expect(before?.at).toBeLessThan(times.crashed)
    expect(after?.outcome.decision).toBe('auto-approve')
    expect(after?.reply).toBe('once')
    expect(after?.at).toBeGreaterThan(times.reconnected)
    expect(existsSync(join(worktrees.restart.dir, 'after.txt'))).toBe(true)
  })

  it('ends with the server totals', async () => {
    await expectServerTotals(job.governor, opencode.url, sessionId)
  })

  it('reports no monitor errors', () => {
    expect(job.log.errors).toEqual([])
  })
})

describe('event stream cut while the agent works', () => {
  let proxy: CutProxy
  let serverUrl: string
  let job: ReturnType<typeof governedJob>
  let sessionId: string
  const times = { cut: 0, restored: 0, reconnected: 0 }
  let pendingWhileCut: Array<{ id: string; sessionID: string; metadata?: { command?: string } }> = []

  beforeAll(async () => {
    const opencode = teardown.add(await startOpencode({ worktree: worktrees.drop.dir, modelServerUrl: gate.url, port: DROP_PORT }), (server) => server.close())
    serverUrl = opencode.url
    proxy = teardown.add(await startCutProxy(DROP_PORT, PROXY_PORT), (p) => p.close())
    job = governedJob('drop', proxy.url, worktrees.drop.dir)
    await job.log.until('the stream to connect', () => job.log.connected.length === 1)
    sessionId = await new OpencodeServer(serverUrl).createSession('drop')
    await new OpencodeServer(serverUrl).prompt(sessionId, '[script:drop] List, read, list again.')

    await holds.drop.arrived.promise
    proxy.cut()
    times.cut = Date.now()
    await job.log.until('a failed reconnect', () => job.log.reconnects.length >= 2)
    holds.drop.release.open()

    // The read step finishes unseen, then the next listing waits for a reply that nobody sends.
    const deadline = Date.now() + 30_000
    while (pendingWhileCut.length === 0 && Date.now() < deadline) {
      await sleep(200)
      pendingWhileCut = (await getJson(serverUrl, '/permission')) as typeof pendingWhileCut
    }
    await sleep(1500)
    pendingWhileCut = (await getJson(serverUrl, '/permission')) as typeof pendingWhileCut

    proxy.restore()
    times.restored = Date.now()
    await job.log.until('the stream to reconnect', () => job.log.connected.length === 2)
    times.reconnected = job.log.connected[1].at
    await job.log.until('the last step', () => lastTurnForwarded('drop', 3) !== undefined)
    await job.log.idleSince(sessionId, lastTurnForwarded('drop', 3))
    await job.monitor.settle()
    await sleep(1000)
  }, 90_000)

  it('reconnects with growing delays', () => {
    expect(job.log.reconnects.map((event) => event.attempt)).toEqual(job.log.reconnects.map((_, index) => index + 1))
    expectBackoff(job.log.reconnects.map((event) => event.delayMs))
    expect(proxy.refused).toBeGreaterThanOrEqual(2)
  })

  it('leaves the request pending while cut off', () => {
    expect(pendingWhileCut.map((request) => [request.sessionID, request.metadata?.command])).toEqual([[sessionId, 'ls > second.txt']])
    const during = job.log.decisions.filter((decision) => decision.at > times.cut && decision.at < times.reconnected)
    expect(during).toEqual([])
  })

  it('decides the pending request after reconnecting', () => {
    const decision = decisionOn(job.log.decisions, 'ls > second.txt')
    expect(decision?.outcome.permissionId).toBe(pendingWhileCut[0]?.id)
    expect(decision?.outcome.decision).toBe('auto-approve')
    expect(decision?.reply).toBe('once')
    expect(decision?.at).toBeGreaterThanOrEqual(times.reconnected)
    expect(existsSync(join(worktrees.drop.dir, 'second.txt'))).toBe(true)
  })

  it('counts the step finished while cut off', async () => {
    await expectServerTotals(job.governor, serverUrl, sessionId)
  })

  it('reports no monitor errors', () => {
    expect(job.log.errors).toEqual([])
  })
})

// Without opencode: a loopback server that speaks just enough of the API to
// drop the stream, hang a reconnect, and serve the messages of the gap.
describe('fake server drops and hangs the stream', () => {
  const FAKE_PORT = 4970
  const FAKE_CONNECT_TIMEOUT_MS = 1000
  const SESSION = 'ses_fake'
  const seenLive = assistantMessage('msg_live', 1000, 0.00321)
  const missed = assistantMessage('msg_missed', 2000, 0.00642)
  const connects: number[] = []
  const held: http.ServerResponse[] = []
  let governor: Governor
  let log: MonitorLog

  beforeAll(async () => {
    const fake = http.createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (path === '/event') return streamEvents(res)
      if (path === '/permission' || path === `/session/${SESSION}/children`) return json(res, [])
      if (path === `/session/${SESSION}/message`) return json(res, [{ info: { id: 'msg_user', sessionID: SESSION, role: 'user' }, parts: [] }, { info: seenLive, parts: [] }, { info: missed, parts: [] }])
      json(res, { error: `no route for ${path}` }, 404)
    })
    await new Promise<void>((resolve) => fake.listen(FAKE_PORT, '127.0.0.1', () => resolve()))
    teardown.add(fake, (server) => {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    })

    governor = new (loadAddon().Governor)()
    const monitor = new Monitor({ governor, logger: silentLogger, backoff: BACKOFF, connectTimeoutMs: FAKE_CONNECT_TIMEOUT_MS })
    teardown.add(monitor, (m) => m.stop())
    log = new MonitorLog(monitor)
    monitor.addJob({ jobId: 'fake', url: `http://127.0.0.1:${FAKE_PORT}`, worktree: worktrees.drop.dir })
    monitor.start()
    await log.until('the third connection', () => log.connected.length === 2)
    await monitor.settle()
  }, 30_000)

  /** First connection: one message, then the server drops it. Second: never answered. Third: stays open. */
  function streamEvents(res: http.ServerResponse): void {
    connects.push(Date.now())
    if (connects.length === 2) {
      held.push(res)
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`)
    if (connects.length > 1) return
    res.write(`data: ${JSON.stringify({ type: 'message.updated', properties: { sessionID: SESSION, info: seenLive } })}\n\n`)
    setTimeout(() => res.destroy(), 100)
  }

  it('retries a connection that never answers', () => {
    expect(connects).toHaveLength(3)
    expect(log.reconnects.map((event) => event.reason)[1]).toBe(`no event within ${FAKE_CONNECT_TIMEOUT_MS} ms of connecting`)
    expect(connects[2] - connects[1]).toBeGreaterThanOrEqual(FAKE_CONNECT_TIMEOUT_MS)
  })

  it('reports no monitor errors', () => {
    expect(log.errors).toEqual([])
  })

  it('counts messages from the gap once', () => {
    const row = governor.report().sessions.find((session) => session.id === SESSION)
    expect(row?.tokens.input).toBe(3000)
    expect(row?.costUsd).toBeCloseTo(0.00963, 9)
    expect(row?.requests).toBe(2)
  })
})

function assistantMessage(id: string, input: number, cost: number) {
  return {
    id,
    sessionID: 'ses_fake',
    role: 'assistant',
    parentID: 'msg_user',
    modelID: 'scripted-model',
    providerID: 'scripted',
    cost,
    tokens: { total: input, input, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
    time: { created: 1, completed: 2 },
    finish: 'stop',
  }
}

function json(res: http.ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}
