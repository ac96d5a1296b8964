// The Monitor against a small loopback server that speaks the parts of
// OpenCode's HTTP API the monitor uses, so that failures can be injected:
// a governor that throws, a reply the server rejects, a dropped stream.

import { readFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { loadAddon } from '../monitor/src/addon.ts'
import { createLogger } from '../monitor/src/log.ts'
import { Monitor, type BudgetEvent, type HeldPermission } from '../monitor/src/monitor.ts'
import { parseCapture } from '../monitor/src/replay.ts'

/** Port of the fake server; each test closes it before the next starts. */
const FAKE_PORT = 4740

interface Recorded {
  method: string
  path: string
  body: unknown
}

/** A fake `opencode serve`: streams queued events and records every other request. */
class FakeOpencode {
  readonly requests: Recorded[] = []
  pending: unknown[] = []
  replyStatus = 200
  streams = 0
  private readonly open = new Set<http.ServerResponse>()
  private server: http.Server | undefined

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.route(req, res))
    await new Promise<void>((resolve) => this.server?.listen(FAKE_PORT, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** Sends one event to every open stream. */
  send(event: unknown): void {
    for (const res of this.open) res.write(`data: ${JSON.stringify(event)}\n\n`)
  }

  /** Ends every open stream, as a restarting server would. */
  dropStreams(): void {
    for (const res of this.open) res.end()
    this.open.clear()
  }

  async stop(): Promise<void> {
    this.dropStreams()
    this.server?.closeAllConnections()
    await new Promise((resolve) => this.server?.close(resolve))
  }

  replies(): Recorded[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.includes('/permission'))
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (req.method === 'GET' && path === '/event') {
      this.streams += 1
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      this.open.add(res)
      res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`)
      return
    }
    if (req.method === 'GET' && path === '/permission') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(this.pending))
      return
    }
    let text = ''
    for await (const chunk of req) text += String(chunk)
    this.requests.push({ method: req.method ?? '', path, body: text ? JSON.parse(text) : undefined })
    const status = path.includes('/permission') ? this.replyStatus : 200
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(status === 200 ? 'true' : JSON.stringify({ name: 'UnknownError', data: { message: 'injected failure' } }))
  }
}

function asked(id: string, permission: string, metadata: Record<string, unknown>, patterns: string[]): unknown {
  return { type: 'permission.asked', properties: { id, sessionID: 'ses_1', permission, patterns, metadata, always: ['*'] } }
}

function waitFor<T>(check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = check()
      if (value !== undefined) return resolve(value)
      if (Date.now() > deadline) return reject(new Error('condition not met in time'))
      setTimeout(poll, 20)
    }
    poll()
  })
}

const WORKTREE = '/tmp/mcg-failclosed/project'
let fake: FakeOpencode
let monitor: Monitor
let logLines: string[]

async function setUp(options: { register: boolean }): Promise<void> {
  fake = new FakeOpencode()
  const url = await fake.start()
  logLines = []
  const logger = createLogger({ level: 'debug', write: (line) => logLines.push(line) })
  monitor = new Monitor({
    governor: new (loadAddon().Governor)(),
    logger,
    backoff: { initialMs: 20, maxMs: 100 },
    jobsRegistered: !options.register,
  })
  monitor.on('error', () => {})
  monitor.addJob({ jobId: 'job-1', url, worktree: WORKTREE })
  const connected = new Promise<void>((resolve) => monitor.once('connected', () => resolve()))
  monitor.start()
  await connected
}

afterEach(async () => {
  await monitor?.stop()
  await fake?.stop()
})

describe('fail-closed handling', () => {
  it('holds a request when the governor throws', async () => {
    // The job was never registered with the governor, so handleEvent throws.
    await setUp({ register: false })
    const held: HeldPermission[] = []
    monitor.on('held', (request) => held.push(request))
    fake.send(asked('per_1', 'edit', { filepath: `${WORKTREE}/a.txt` }, ['a.txt']))

    const request = await waitFor(() => held[0])
    expect(request).toMatchObject({ permissionId: 'per_1', sessionId: 'ses_1', jobId: 'job-1', cause: 'addon-error' })
    await monitor.settle()
    expect(fake.replies()).toEqual([])
    const errorLine = logLines.find((line) => line.includes('ERROR monitor error') && line.includes('permissionId='))
    expect(errorLine).toContain('jobId=job-1')
    expect(errorLine).toContain('permissionId=per_1')
    expect(errorLine).toContain('sessionId=ses_1')
  })

  it('holds a request whose reply fails', async () => {
    await setUp({ register: true })
    fake.replyStatus = 500
    const held: HeldPermission[] = []
    monitor.on('held', (request) => held.push(request))
    fake.send(asked('per_2', 'edit', { filepath: `${WORKTREE}/a.txt` }, ['a.txt']))

    const request = await waitFor(() => held[0])
    expect(request.cause).toBe('reply-failed')
    expect(request.reason).toContain('HTTP 500')
    expect(monitor.held().map((h) => h.permissionId)).toEqual(['per_2'])
  })

  it('sends a reject with the reason for deny', async () => {
    await setUp({ register: true })
    fake.send(asked('per_3', 'external_directory', { filepath: '/etc/passwd', parentDir: '/etc' }, ['/etc/*']))

    const reply = await waitFor(() => fake.replies()[0])
    expect(reply.path).toBe('/permission/per_3/reply')
    expect(reply.body).toMatchObject({ reply: 'reject' })
    expect(typeof (reply.body as { message?: unknown }).message).toBe('string')
  })

  it('replies to a held request with the user choice', async () => {
    await setUp({ register: false })
    fake.send(asked('per_4', 'edit', { filepath: `${WORKTREE}/a.txt` }, ['a.txt']))
    await waitFor(() => monitor.held()[0])

    await monitor.answer('per_4', 'always', 'fine by me')
    expect(fake.replies()).toEqual([{ method: 'POST', path: '/permission/per_4/reply', body: { reply: 'always', message: 'fine by me' } }])
    expect(monitor.held()).toEqual([])
  })

  it('rejects an answer for an unknown id', async () => {
    await setUp({ register: true })
    await expect(monitor.answer('per_missing', 'once')).rejects.toThrow('permission "per_missing" is not held')
  })
})

describe('reply routes', () => {
  it('replies to a legacy request on its session route', async () => {
    await setUp({ register: true })
    fake.send({
      type: 'permission.updated',
      properties: { id: 'per_6', sessionID: 'ses_1', type: 'edit', pattern: 'a.txt', title: 'Edit a.txt', metadata: { filepath: `${WORKTREE}/a.txt` } },
    })

    const reply = await waitFor(() => fake.replies()[0])
    expect(reply).toEqual({ method: 'POST', path: '/session/ses_1/permissions/per_6', body: { response: 'once' } })
  })

  it('replies to a v2 request on the api route', async () => {
    await setUp({ register: true })
    fake.send({
      type: 'permission.v2.asked',
      properties: { id: 'per_7', sessionID: 'ses_1', action: 'webfetch', resources: ['http://127.0.0.1:1/x'], metadata: {} },
    })

    const reply = await waitFor(() => fake.replies()[0])
    expect(reply.path).toBe('/api/session/ses_1/permission/per_7/reply')
    expect(reply.body).toMatchObject({ reply: 'reject' })
  })
})

describe('stream recovery', () => {
  it('reconnects after the stream ends', async () => {
    await setUp({ register: true })
    const reconnects: number[] = []
    monitor.on('reconnect', ({ delayMs }) => reconnects.push(delayMs))

    const before = fake.streams
    fake.dropStreams()
    await waitFor(() => (fake.streams > before ? true : undefined))
    expect(reconnects.length).toBeGreaterThanOrEqual(1)
    // Delays stay within the configured cap of 100 ms.
    expect(Math.max(...reconnects)).toBeLessThanOrEqual(100)
    expect(logLines.some((line) => line.includes('WARN event stream ended, reconnecting') && line.includes('jobId=job-1'))).toBe(true)
  })

  it('handles requests pending at connect', async () => {
    fake = new FakeOpencode()
    fake.pending = [{ id: 'per_5', sessionID: 'ses_1', permission: 'edit', patterns: ['a.txt'], metadata: {}, always: ['*'] }]
    const url = await fake.start()
    monitor = new Monitor({ governor: new (loadAddon().Governor)(), jobsRegistered: true })
    monitor.on('error', () => {})
    monitor.addJob({ jobId: 'job-1', url, worktree: WORKTREE })
    monitor.start()

    const held = await waitFor(() => monitor.held()[0])
    expect(held.permissionId).toBe('per_5')
    expect(held.cause).toBe('addon-error')
  })
})

describe('budget actions', () => {
  it('aborts on pause and prompts on resume', async () => {
    // A real captured stream (about $0.006 of usage) against a $0.001 cap.
    const captures = join(__dirname, '../fixtures/captures')
    const facts = JSON.parse(readFileSync(join(captures, 'edit-inside.json'), 'utf8')) as { worktree: string; rootSessionId: string }
    const capture = parseCapture(readFileSync(join(captures, 'edit-inside.sse'), 'utf8'))
    fake = new FakeOpencode()
    const url = await fake.start()
    monitor = new Monitor({ governor: new (loadAddon().Governor)(), resumePrompt: 'continue' })
    monitor.on('error', () => {})
    const budget: BudgetEvent[] = []
    monitor.on('budget', (event) => budget.push(event))
    monitor.addJob({ jobId: 'job-1', url, worktree: facts.worktree, policy: { budget: { usd: 0.001, onExceed: 'pause' } } })
    const connected = new Promise<void>((resolve) => monitor.once('connected', () => resolve()))
    monitor.start()
    await connected
    for (const { event } of capture.events) fake.send(event)

    const abortPath = `/session/${facts.rootSessionId}/abort`
    await waitFor(() => fake.requests.find((r) => r.path === abortPath))
    const pause = budget.find((event) => event.action.kind === 'pause')
    expect(pause?.jobId).toBe('job-1')
    expect(pause?.action.sessions).toContain(facts.rootSessionId)

    const actions = monitor.extendJob('job-1', { usd: 1 })
    expect(actions.map((action) => action.kind)).toContain('resume')
    const prompt = await waitFor(() => fake.requests.find((r) => r.path === `/session/${facts.rootSessionId}/prompt_async`))
    expect(prompt.body).toMatchObject({ parts: [{ type: 'text', text: 'continue' }] })
  })
})
