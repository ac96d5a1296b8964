// Malformed input through the Node binding. Every bad event must be a
// thrown Error whose message names the problem, the process must survive,
// and nothing malformed may be approved or logged. Many jobs interleaved in
// one Governor must keep their counts apart.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Governor } from '../index.js'

let root = ''
let worktree = ''

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcg-robust-'))
  mkdirSync(join(root, 'job', 'src'), { recursive: true })
  worktree = realpathSync(join(root, 'job'))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

function governor(): Governor {
  const governor = new Governor()
  governor.registerJob({ jobId: 'job', worktree, home: join(root, 'home') })
  return governor
}

function asked(properties: Record<string, unknown>) {
  return {
    type: 'permission.asked',
    properties: {
      id: 'per_1',
      sessionID: 'ses_1',
      permission: 'edit',
      patterns: ['src/a.ts'],
      metadata: { filepath: `${worktree}/src/a.ts` },
      ...properties,
    },
  }
}

function thrown(call: () => unknown): Error {
  try {
    call()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

describe('malformed events', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['empty line', () => '', /^invalid event: not valid JSON/],
    ['bare data prefix', () => 'data:', /^invalid event: not valid JSON/],
    ['truncated JSON', () => 'data: {"type":"permission.asked","properties":{"id":', /^invalid event: not valid JSON/],
    ['JSON array text', () => '[1,2]', /^invalid event: expected a JSON object/],
    ['missing type', () => ({ properties: {} }), /^invalid event: missing string field "type"/],
    ['numeric type', () => ({ type: 5 }), /^invalid event: missing string field "type"/],
    ['missing request id', () => asked({ id: undefined }), /^invalid permission\.asked event: missing field "id"/],
    ['numeric session id', () => asked({ sessionID: 7 }), /field "sessionID" must be a string, got a number/],
    ['empty permission', () => asked({ permission: '' }), /field "permission" is empty/],
    ['patterns of numbers', () => asked({ patterns: [1] }), /field "patterns\[0\]" must be a string, got a number/],
    ['metadata as list', () => asked({ metadata: [] }), /field "metadata" must be an object, got a list/],
    ['properties as string', () => ({ type: 'permission.asked', properties: 'x' }), /expected "properties" to be an object/],
  ]

  for (const [name, make, message] of cases) {
    it(`rejects ${name}`, () => {
      const gov = governor()
      const error = thrown(() => gov.handleEvent('job', make() as Record<string, unknown>))
      expect(error).toBeInstanceOf(Error)
      expect(error.message).toMatch(message)
      expect(gov.decisionLog('job').entries).toEqual([])
    })
  }

  it('rejects events that are not strings or objects', () => {
    const gov = governor()
    for (const value of [42, null, undefined, true]) {
      const error = thrown(() => gov.handleEvent('job', value as unknown as string))
      expect(error).toBeInstanceOf(Error)
      expect(error.message.length).toBeGreaterThan(0)
    }
    expect(gov.decisionLog('job').entries).toEqual([])
  })

  it('rejects an unknown job with help', () => {
    const error = thrown(() => governor().handleEvent('nobody', asked({})))
    expect(error.message).toBe('unknown job "nobody" (help: register the job with registerJob first)')
  })

  it('rejects an event over the size limit', () => {
    const line = `data: {"type":"server.heartbeat","properties":{"pad":"${'x'.repeat(9 * 1024 * 1024)}"}}`
    expect(thrown(() => governor().handleEvent('job', line)).message).toMatch(/^invalid event: event is \d+ bytes, more than the limit of 8388608$/)
  })

  it('holds a command too long to analyse', () => {
    const command = `echo ${'a'.repeat(2 * 1024 * 1024)}`
    const outcome = governor().handleEvent('job', asked({ permission: 'bash', patterns: [], metadata: { command } }))
    expect(outcome.permission?.decision).not.toBe('auto-approve')
  })

  it('holds commands the shell parser cannot bound', () => {
    // Without a guard, the first two and the last two abort the process
    // (the last two by overflowing the stack) and the middle one takes minutes.
    const nested = (open: string, close: string) => `${open.repeat(1500)}ls${close.repeat(1500)}`
    const commands = ["cat <<'' ", 'x=$(cat <<  EOF ', `${'( '.repeat(40)}> l`, nested('{ ', '; }'), nested('if true; then ', '; fi')]
    for (const command of commands) {
      const outcome = governor().handleEvent('job', asked({ permission: 'bash', patterns: [command], metadata: { command } }))
      expect(outcome.permission?.decision).toBe('ask-user')
      expect(outcome.permission?.reason).toMatch(/cannot parse command/)
    }
  })

  it('holds a command the shell parser panics on, printing nothing', () => {
    // brush-parser reads the number after `~` with unwrap. The panic is
    // caught inside the addon; a child process shows that nothing reaches
    // the host's standard error, even with RUST_BACKTRACE set.
    const addon = JSON.stringify(join(__dirname, '..', 'index.js'))
    const script = `
      const { explainPolicy } = require(${addon})
      const command = 'echo ~99999999999999999999999/$(rm -rf x)'
      const explanation = explainPolicy({ worktree: ${JSON.stringify(worktree)}, command })
      console.log(JSON.stringify({ decision: explanation.decision, reason: explanation.reason }))`
    const child = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, RUST_BACKTRACE: '1' },
    })
    expect(child.status).toBe(0)
    expect(child.stderr).toBe('')
    const explanation = JSON.parse(child.stdout)
    expect(explanation.decision).toBe('ask-user')
    expect(explanation.reason).toMatch(/may run a command substitution/)
  })

  it('rejects deeply nested JSON text in a field it reads', () => {
    for (const depth of [200, 100_000]) {
      const line = `{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit","patterns":${'['.repeat(depth)}"a"${']'.repeat(depth)}}}`
      const gov = governor()
      expect(thrown(() => gov.handleEvent('job', line)).message).toMatch(/recursion limit exceeded/)
      expect(gov.decisionLog('job').entries).toEqual([])
    }
  })

  it('skips deeply nested JSON text in a field it does not read', () => {
    for (const depth of [200, 100_000]) {
      const metadata = `{"diff":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`
      const line = `{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit","patterns":["src/a.ts"],"metadata":${metadata}}}`
      const outcome = governor().handleEvent('job', line)
      expect(outcome.permission?.decision).toBe('auto-approve')
      expect(outcome.permission?.actions.map((action) => action.target)).toEqual([`${worktree}/src/a.ts`])
    }
  })

  it('rejects deeply nested objects', () => {
    let metadata: Record<string, unknown> = { filepath: `${worktree}/src/a.ts` }
    for (let i = 0; i < 100_000; i++) metadata = { a: metadata }
    const gov = governor()
    const error = thrown(() => gov.handleEvent('job', asked({ metadata, patterns: [] })))
    expect(error.message).toMatch(/nesting depth/)
    expect(gov.decisionLog('job').entries).toEqual([])
  })

  it('reads lone surrogates without crashing', () => {
    const gov = governor()
    const outcome = gov.handleEvent('job', asked({ id: 'per_\ud800', metadata: { filepath: `${worktree}/src/\udfff.ts` } }))
    expect(outcome.permission?.permissionId.startsWith('per_')).toBe(true)
    const text = gov.handleEvent('job', `data: {"type":"session.status","properties":{"status":"\ud800"}}`)
    expect(text.eventType).toBe('session.status')
  })
})

describe('interleaved jobs', () => {
  it('keeps decisions and logs per job', () => {
    const gov = new Governor()
    const jobs = Array.from({ length: 20 }, (_, i) => `job-${i}`)
    for (const jobId of jobs) gov.registerJob({ jobId, worktree, home: join(root, 'home') })
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const expected = new Map(jobs.map((jobId) => [jobId, 0]))
    for (let i = 0; i < 2000; i++) {
      const jobId = jobs[Math.floor(random() * jobs.length)]
      const outside = random() < 0.5
      const filepath = outside ? '/etc/passwd' : `${worktree}/src/f${i}.ts`
      const outcome = gov.handleEvent(jobId, asked({ id: `per_${i}`, sessionID: `ses_${jobId}`, metadata: { filepath } }))
      expect(outcome.permission?.decision).toBe(outside ? 'deny' : 'auto-approve')
      expected.set(jobId, (expected.get(jobId) ?? 0) + 1)
    }
    for (const jobId of jobs) {
      const status = gov.jobStatus(jobId)
      const total = status.total.autoApprove + status.total.askUser + status.total.deny
      expect(total).toBe(expected.get(jobId))
    }
  })
})

describe('interleaved ledgers', () => {
  it('counts each job exactly once', () => {
    const gov = new Governor()
    const jobs = Array.from({ length: 12 }, (_, i) => `job-${i}`)
    for (const jobId of jobs) gov.registerJob({ jobId, worktree, home: join(root, 'home') })
    // Three growing snapshots per message, sent twice over, jobs interleaved;
    // job i's messages have i + 1 output tokens per snapshot step.
    const snapshot = (jobId: string, index: number, message: number, step: number) => ({
      type: 'message.updated',
      properties: {
        sessionID: `ses_${jobId}`,
        info: {
          id: `msg_${jobId}_${message}`,
          sessionID: `ses_${jobId}`,
          role: 'assistant',
          modelID: 'bench-model',
          providerID: 'bench',
          cost: 0.001 * step,
          tokens: { input: 100 * step, output: (index + 1) * step, reasoning: 0, cache: { read: 10 * step, write: 0 } },
          time: step === 3 ? { created: 1, completed: 2 } : { created: 1 },
        },
      },
    })
    const messages = 40
    for (let message = 0; message < messages; message++) {
      for (let step = 1; step <= 3; step++) {
        for (let repeat = 0; repeat < 2; repeat++) {
          jobs.forEach((jobId, index) => gov.handleEvent(jobId, snapshot(jobId, index, message, step)))
        }
      }
    }
    const report = gov.report() as { jobs: Array<{ id: string; tokens: Record<string, number>; costUsd: number }> }
    jobs.forEach((jobId, index) => {
      const row = report.jobs.find((candidate) => candidate.id === jobId)
      expect(row?.tokens.input).toBe(300 * messages)
      expect(row?.tokens.output).toBe(3 * (index + 1) * messages)
      expect(row?.tokens.cacheRead).toBe(30 * messages)
      expect(row?.costUsd).toBeCloseTo(0.003 * messages, 9)
    })
  })
})
