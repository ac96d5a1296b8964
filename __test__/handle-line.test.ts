// handleLine, the fast entry point: a job handle and the SSE line as bytes
// or text in, the brief outcome as JSON text out. It must decide and count
// exactly as handleEventText does, and fail as clearly.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Governor, handleLine } from '../index.js'

const capturesDir = join(__dirname, '..', 'fixtures', 'captures')

const captureNames = readdirSync(capturesDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''))

function dataLines(name: string): string[] {
  return readFileSync(join(capturesDir, `${name}.sse`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('data:'))
}

function worktreeOf(name: string): string {
  return (JSON.parse(readFileSync(join(capturesDir, `${name}.json`), 'utf8')) as { worktree: string }).worktree
}

function registered(worktree: string, jobId = 'job'): Governor {
  const governor = new Governor()
  governor.registerJob({ jobId, worktree })
  return governor
}

describe('handleLine on captured streams', () => {
  for (const name of captureNames) {
    it(`${name} decides and counts as handleEventText does`, () => {
      const worktree = worktreeOf(name)
      const full = registered(worktree)
      const brief = registered(worktree)
      const handle = brief.jobHandle('job')

      let decisions = 0
      for (const [index, line] of dataLines(name).entries()) {
        const expected = full.handleEventText('job', line)
        // Alternate bytes and text: both must read alike.
        const input = index % 2 === 0 ? Buffer.from(line) : line
        const actual = handleLine(handle, input)
        if (expected === null) {
          expect(actual).toBeNull()
          continue
        }
        const outcome = JSON.parse(expected)
        const short = JSON.parse(actual ?? 'null')
        expect(short.budgetActions ?? []).toEqual(outcome.budgetActions)
        if (outcome.permission === undefined) continue
        decisions += 1
        const { permissionId, sessionId, permission, category, decision, rule, reason, actions } = outcome.permission
        expect(short).toMatchObject({ permissionId, sessionId, permission, category, decision, rule, reason })
        expect(actions.map((action: { target: string }) => action.target)).toContain(short.target)
      }

      expect(brief.report()).toEqual(full.report())
      expect(brief.decisionLog('job').entries.map(({ timeMs: _, ...rest }) => rest)).toEqual(
        full.decisionLog('job').entries.map(({ timeMs: _, ...rest }) => rest),
      )
      if (JSON.parse(readFileSync(join(capturesDir, `${name}.json`), 'utf8')).permissions?.length > 0) {
        expect(decisions).toBeGreaterThan(0)
      }
    })
  }
})

describe('job handles', () => {
  it('are stable per job and distinct across jobs and governors', () => {
    const first = registered('/tmp/mcg-handle-a')
    first.registerJob({ jobId: 'other', worktree: '/tmp/mcg-handle-b' })
    const second = registered('/tmp/mcg-handle-c')

    const handle = first.jobHandle('job')
    expect(first.jobHandle('job')).toBe(handle)
    first.registerJob({ jobId: 'job', worktree: '/tmp/mcg-handle-a' })
    expect(first.jobHandle('job')).toBe(handle)

    const handles = new Set([handle, first.jobHandle('other'), second.jobHandle('job')])
    expect(handles.size).toBe(3)
  })

  it('route each line to its own governor and job', () => {
    const first = registered('/tmp/mcg-route-a')
    const second = registered('/tmp/mcg-route-b')
    const edit = (worktree: string) =>
      JSON.stringify({
        type: 'permission.asked',
        properties: { id: 'per_1', sessionID: 'ses_1', permission: 'edit', patterns: ['a.ts'], metadata: { filepath: `${worktree}/a.ts` } },
      })

    // The same absolute path is inside one job's worktree and outside the other's.
    const inside = JSON.parse(handleLine(first.jobHandle('job'), edit('/tmp/mcg-route-a')) ?? '{}')
    const outside = JSON.parse(handleLine(second.jobHandle('job'), edit('/tmp/mcg-route-a')) ?? '{}')
    expect(inside.decision).toBe('auto-approve')
    expect(outside.decision).not.toBe('auto-approve')
    expect(first.decisionLog('job').entries).toHaveLength(1)
    expect(second.decisionLog('job').entries).toHaveLength(1)
  })

  it('stop working once their governor is collected', () => {
    // A child process, because collecting on demand needs --expose-gc.
    const addon = JSON.stringify(join(__dirname, '..', 'index.js'))
    const script = `
      const { Governor, handleLine } = require(${addon})
      let handle
      ;(() => {
        const governor = new Governor()
        governor.registerJob({ jobId: 'job', worktree: '/tmp/mcg-collected' })
        handle = governor.jobHandle('job')
        handleLine(handle, '{"type":"session.status"}')
      })()
      // Finalizers run after a collection, on a later turn of the event
      // loop, so collect and try again a few times.
      let tries = 0
      const attempt = () => {
        globalThis.gc()
        try {
          handleLine(handle, '{"type":"session.status"}')
          if (++tries < 40) setTimeout(attempt, 25)
          else console.log('still works')
        } catch (error) {
          console.log(error.message)
        }
      }
      attempt()`
    const output = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })
    expect(output).toMatch(/unknown job handle \d+ .*live governor/)
  })

  it('work only on the thread that made them', () => {
    // A child process runs a worker thread with a governor of its own; the
    // main thread's handle 0 must not name the worker's job 0.
    const addon = JSON.stringify(join(__dirname, '..', 'index.js'))
    const script = `
      const { Worker } = require('node:worker_threads')
      const { Governor, handleLine } = require(${addon})
      const governor = new Governor()
      governor.registerJob({ jobId: 'main-job', worktree: '/tmp/mcg-thread-main' })
      const mainHandle = governor.jobHandle('main-job')
      const worker = new Worker(\`
        const { parentPort, workerData } = require('node:worker_threads')
        const { Governor, handleLine } = require(workerData.addon)
        const governor = new Governor()
        governor.registerJob({ jobId: 'worker-job', worktree: '/tmp/mcg-thread-worker' })
        const own = governor.jobHandle('worker-job')
        const line = '{"type":"session.status"}'
        let foreign
        try { handleLine(workerData.mainHandle, line); foreign = 'accepted' } catch (error) { foreign = error.message }
        parentPort.postMessage({ own, ownWorks: handleLine(own, line) === null, foreign })
      \`, { eval: true, workerData: { addon: ${addon}, mainHandle } })
      worker.on('message', (result) => {
        let back
        try { handleLine(result.own, '{"type":"session.status"}'); back = 'accepted' } catch (error) { back = error.message }
        console.log(JSON.stringify({ mainHandle, ...result, back }))
      })`
    const output = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
    expect(output.mainHandle).toBe(0)
    expect(output.own).not.toBe(output.mainHandle)
    expect(output.ownWorks).toBe(true)
    expect(output.foreign).toMatch(/job handle 0 belongs to another thread/)
    expect(output.back).toMatch(/belongs to another thread/)
  })

  it('are refused for a job that is not registered', () => {
    const governor = registered('/tmp/mcg-handle-d')
    expect(() => governor.jobHandle('nobody')).toThrow(/nobody/)
  })
})

describe('handleLine errors', () => {
  const governor = registered('/tmp/mcg-errors')
  const handle = governor.jobHandle('job')

  it('names an unknown handle and how to get one', () => {
    expect(() => handleLine(handle + 1000, '{"type":"session.status"}')).toThrow(/unknown job handle .*jobHandle/)
  })

  it('rejects handles that are not whole numbers', () => {
    for (const bad of [handle + 0.5, -1, Number.NaN, 2 ** 53, Infinity]) {
      expect(() => handleLine(bad, '{"type":"session.status"}')).toThrow(/invalid job handle .*whole number/)
    }
    // Named as JavaScript writes them.
    expect(() => handleLine(-Infinity, '{}')).toThrow(/invalid job handle -Infinity:/)
    expect(() => handleLine(Number.NaN, '{}')).toThrow(/invalid job handle NaN:/)
    expect(governor.decisionLog('job').entries).toHaveLength(0)
  })

  it('names the type of a wrong argument and the fix', () => {
    const call = handleLine as unknown as (...args: unknown[]) => string | null
    const line = '{"type":"session.status"}'
    const cases: [unknown[], RegExp][] = [
      [['1', line], /invalid job handle: got a string \(help: pass the number that jobHandle\(jobId\) returned\)/],
      [[undefined, line], /invalid job handle: got undefined/],
      [[handle, 42], /invalid event line: got a number \(help: pass the SSE line as a Uint8Array .* or as a string\)/],
      [[handle, null], /invalid event line: got null/],
      [[handle, { type: 'session.status' }], /invalid event line: got an object/],
      [[handle], /invalid event line: got undefined/],
      [[handle, new Uint16Array(4)], /invalid event line: got a Uint16Array \(help: pass the SSE line as a Uint8Array/],
      [[handle, new Int8Array(4)], /invalid event line: got an Int8Array/],
      [[handle, new Uint8ClampedArray(4)], /invalid event line: got a Uint8ClampedArray/],
      [[handle, new ArrayBuffer(4)], /invalid event line: got an object/],
      [[handle, new DataView(new ArrayBuffer(4))], /invalid event line: got an object/],
    ]
    for (const [args, expected] of cases) expect(() => call(...args)).toThrow(expected)
    expect(governor.decisionLog('job').entries).toHaveLength(0)
  })

  it('rejects bytes that are not UTF-8 and logs nothing', () => {
    const bytes = Buffer.concat([Buffer.from('data: {"type":"permission.asked","properties":{"id":"per_'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')])
    expect(() => handleLine(handle, bytes)).toThrow(/not UTF-8/)
    expect(governor.decisionLog('job').entries).toHaveLength(0)
  })

  it('fails on a malformed request as handleEventText does', () => {
    const line = 'data: {"type":"permission.asked","properties":{"id":"per_1","sessionID":"ses_1","permission":"edit","patterns":[1]}}'
    let expected = ''
    try {
      governor.handleEventText('job', line)
    } catch (error) {
      expected = (error as Error).message
    }
    expect(expected).toMatch(/patterns\[0\]/)
    expect(() => handleLine(handle, line)).toThrow(expected)
    expect(() => handleLine(handle, Buffer.from(line))).toThrow(expected)
  })

  it('returns null for events that need no action', () => {
    expect(handleLine(handle, 'data: {"type":"session.status","properties":{"sessionID":"ses_1"}}')).toBeNull()
  })

  it('reads any Uint8Array, including views into a larger or shared buffer', () => {
    const line = 'data: {"type":"session.status","properties":{"sessionID":"ses_1"}}'
    const bytes = new TextEncoder().encode(`xx${line}yy`)
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length))
    shared.set(bytes)
    for (const whole of [bytes, shared]) expect(handleLine(handle, whole.subarray(2, whole.length - 2))).toBeNull()
    // The same offsets one byte off leave JSON that does not parse.
    expect(() => handleLine(handle, bytes.subarray(3, bytes.length - 2))).toThrow(/not valid JSON/)
    expect(() => handleLine(handle, new Uint8Array(0))).toThrow(/not valid JSON/)
  })
})
