// Per-event cost of handing OpenCode events to the addon and acting on the
// result, against the plain TypeScript reference in bench/reference/, in
// one run, with the decisions of both compared.
//
//   npx tsx bench/events.bench.ts            # full run, about two minutes
//   npx tsx bench/events.bench.ts --quick    # a tenth of the samples
//
// Times single calls with process.hrtime.bigint() and subtracts the timer's
// own median cost. Throughput rows time chunks of a whole stream, and their
// tail column is the slowest chunk, not a p99.

import { hrtime } from 'node:process'
import {
  addon,
  createWorkspace,
  loadCaptures,
  messageEvent,
  permissionEvent,
  policy200,
  policy200Text,
  quantiles,
  SHELL_COMMANDS,
  varyIds,
  type Workspace,
} from './setup.ts'
import { ReferenceGovernor } from './reference/governor.ts'

const quick = process.argv.includes('--quick')
const SAMPLES = quick ? 4_000 : 40_000
const WARMUP = quick ? 1_000 : 10_000
const VARIANTS = 512
const JOB = 'bench-job'

type Handler = (event: any) => any

interface Row {
  name: string
  median: number
  p99: number
}

const rows: Row[] = []
/** Disagreements between addon and reference, counted by kind. */
const mismatches = new Map<string, number>()

function mismatch(key: string): void {
  mismatches.set(key, (mismatches.get(key) ?? 0) + 1)
}

function timerOverhead(): number {
  const samples = new Float64Array(SAMPLES)
  for (let i = 0; i < SAMPLES; i++) {
    const start = hrtime.bigint()
    samples[i] = Number(hrtime.bigint() - start)
  }
  return quantiles(samples).median
}

/** Times `handle` on each input in turn, in nanoseconds per call. */
function timeCalls(name: string, inputs: unknown[], handle: Handler, overhead: number): Row {
  for (let i = 0; i < WARMUP; i++) act(handle(inputs[i % inputs.length]))
  const samples = new Float64Array(SAMPLES)
  for (let i = 0; i < SAMPLES; i++) {
    const input = inputs[i % inputs.length]
    const start = hrtime.bigint()
    act(handle(input))
    samples[i] = Number(hrtime.bigint() - start) - overhead
  }
  const { median, p99 } = quantiles(samples)
  const row = { name, median, p99 }
  rows.push(row)
  return row
}

let approved = 0
let denied = 0
let held = 0
let budgetActions = 0

let replied = 0

/** Acts on an outcome as the monitor does: reads the decision and the ids
 * to reply with, and carries out budget actions. Counters replace the
 * replies here. Takes full outcomes (`permission` nested) and the brief
 * ones of `handleLine` (flat). */
function act(outcome: any): void {
  const permission = outcome.permission ?? outcome
  const decision = permission.decision
  if (decision === 'auto-approve') approved++
  else if (decision === 'deny') denied++
  else if (decision === 'ask-user') held++
  if (decision !== undefined) replied += permission.permissionId.length + permission.sessionId.length
  budgetActions += outcome.budgetActions?.length ?? 0
}

const NOTHING = { budgetActions: [] }

/** A calling convention: its name, the call, and how an SSE line is
 * turned into the call's input before timing starts. */
type Convention = [name: string, handle: Handler, prepare: (line: string) => unknown]

const asIs = (line: string) => line

/** Calling conventions besides `handleEvent`, measured when the addon has
 * them: `handleEventText(jobId, line)` takes the SSE line and returns the
 * outcome as JSON text, or null when there is nothing to act on;
 * `handleLine(jobHandle, line)` takes a job handle and the line as text or
 * bytes and returns the brief outcome as JSON text, or null. */
function extraConventions(native: any, jobOf: (input: any) => string): Convention[] {
  const conventions: Convention[] = []
  if (typeof native.handleEventText === 'function') {
    const handle: Handler = (line) => {
      const text = native.handleEventText(jobOf(line), line)
      return text === null ? NOTHING : JSON.parse(text)
    }
    conventions.push(['handleEventText', handle, asIs])
  }
  if (typeof native.jobHandle === 'function' && typeof addon.handleLine === 'function') {
    const handles = new Map<string, number>()
    const handleOf = (jobId: string) => {
      let handle = handles.get(jobId)
      if (handle === undefined) handles.set(jobId, (handle = native.jobHandle(jobId) as number))
      return handle
    }
    const handle: Handler = (line) => {
      const text = addon.handleLine(handleOf(jobOf(line)), line)
      return text === null ? NOTHING : JSON.parse(text)
    }
    conventions.push(['handleLine, text', handle, asIs])
    conventions.push(['handleLine, bytes', handle, (line) => Buffer.from(line)])
  }
  return conventions
}

function newAddon(workspace: Workspace, worktree = workspace.worktree, jobId = JOB) {
  const governor = new addon.Governor({ logLimit: 1000 })
  governor.registerPlan('bench-plan', policy200Text, 'bench/policy-200.json')
  governor.registerJob({ jobId, planId: 'bench-plan', worktree, home: workspace.home })
  return governor
}

function newReference(workspace: Workspace, worktree = workspace.worktree, jobId = JOB) {
  const governor = new ReferenceGovernor()
  governor.registerJob(jobId, worktree, workspace.home, policy200)
  return governor
}

function decisionRequests(workspace: Workspace): Record<string, object[]> {
  const w = workspace.worktree
  const make = (build: (id: string) => object) => Array.from({ length: VARIANTS }, (_, i) => build(`per_bench_${i}`))
  const bash = (command: string) => (id: string) => permissionEvent(id, 'bash', [command], { command })
  return {
    edit_inside: make((id) => permissionEvent(id, 'edit', ['src/app/main.ts'], { filepath: `${w}/src/app/main.ts`, diff: '' })),
    edit_outside_matched: make((id) => permissionEvent(id, 'edit', ['/etc/service_2/app.conf'], { filepath: '/etc/service_2/app.conf' })),
    webfetch: make((id) => permissionEvent(id, 'webfetch', ['https://docs.rs/serde/latest/serde/'], { url: 'https://docs.rs/serde/latest/serde/', format: 'markdown' })),
    mcp: make((id) => permissionEvent(id, 'linear_create_issue', ['*'], {})),
    bash_11: make(bash(SHELL_COMMANDS.bash_11)),
    bash_90: make(bash(SHELL_COMMANDS.bash_90)),
    bash_200: make(bash(SHELL_COMMANDS.bash_200)),
  }
}

function compareDecisions(label: string, events: object[], left: Handler, right: Handler): void {
  for (const event of events) {
    const a = left(event).permission
    const b = right(event).permission
    if (a?.decision !== b?.decision) {
      mismatch(`${label}: addon ${a?.decision} (${a?.rule}), reference ${b?.decision} (${b?.rule})`)
    }
  }
}

function benchDecisions(workspace: Workspace, overhead: number): void {
  const native = newAddon(workspace)
  const reference = newReference(workspace)
  const viaObject: Handler = (event) => native.handleEvent(JOB, event)
  const viaText: Handler = (line) => native.handleEvent(JOB, line)
  const referenceObject: Handler = (event) => reference.handleEvent(JOB, event)
  const referenceText: Handler = (line) => reference.handleEvent(JOB, line)

  for (const [kind, events] of Object.entries(decisionRequests(workspace))) {
    const lines = events.map((event) => `data: ${JSON.stringify(event)}`)
    compareDecisions(kind, events, viaObject, referenceObject)
    timeCalls(`decide ${kind}: addon, object`, events, viaObject, overhead)
    timeCalls(`decide ${kind}: addon, SSE text`, lines, viaText, overhead)
    for (const [name, handle, prepare] of extraConventions(native, () => JOB)) {
      timeCalls(`decide ${kind}: addon, SSE text, ${name}`, lines.map(prepare), handle, overhead)
    }
    timeCalls(`decide ${kind}: reference, object`, events, referenceObject, overhead)
    timeCalls(`decide ${kind}: reference, SSE text`, lines, referenceText, overhead)
  }
}

/** Message snapshots as a session produces them: three per message, the
 * last one completed, over many messages. */
function messageStream(count: number): object[] {
  return Array.from({ length: count }, (_, i) => {
    const message = Math.floor(i / 3)
    return messageEvent(`msg_bench_${message}`, `ses_bench_${message % 16}`, 10 * ((i % 3) + 1), i % 3 === 2)
  })
}

/** Feeds every input once, timed in 50 consecutive chunks. Reports the
 * median chunk's cost per event, which a busy minute of a shared machine
 * moves less than the mean, and the slowest chunk's as the tail. */
function throughput(name: string, inputs: unknown[], handle: Handler): number {
  for (let i = 0; i < Math.min(inputs.length, WARMUP); i++) handle(inputs[i])
  const chunks = 50
  const size = Math.ceil(inputs.length / chunks)
  const perEvent = new Float64Array(chunks)
  for (let chunk = 0; chunk < chunks; chunk++) {
    const end = Math.min(inputs.length, (chunk + 1) * size)
    const start = hrtime.bigint()
    for (let i = chunk * size; i < end; i++) act(handle(inputs[i]))
    perEvent[chunk] = Number(hrtime.bigint() - start) / (end - chunk * size)
  }
  const { median } = quantiles(perEvent)
  const slowest = Math.max(...perEvent)
  const perSecond = 1e9 / median
  rows.push({ name: `${name} (events/s: ${Math.round(perSecond).toLocaleString('en')})`, median, p99: slowest })
  return perSecond
}

function benchLedger(workspace: Workspace): void {
  const count = quick ? 30_000 : 300_000
  const lines = messageStream(count).map((event) => `data: ${JSON.stringify(event)}`)
  // Each convention gets a fresh governor, so every message is new to it.
  // The text conventions run before the 300,000 event objects exist,
  // because a large live heap slows every collection of the garbage the
  // calls leave.
  const fresh = () => {
    const native = newAddon(workspace)
    return (event: unknown) => native.handleEvent(JOB, event)
  }
  throughput('message.updated: addon, SSE text', lines, fresh())
  for (const [name] of extraConventions(newAddon(workspace), () => JOB)) {
    const native = newAddon(workspace)
    const [, handle, prepare] = extraConventions(native, () => JOB).find(([other]) => other === name)!
    throughput(`message.updated: addon, SSE text, ${name}`, lines.map(prepare), handle)
  }
  const referenceText = newReference(workspace)
  throughput('message.updated: reference, SSE text', lines, (line) => referenceText.handleEvent(JOB, line))

  const events = lines.map((line) => JSON.parse(line.slice(5)))
  throughput('message.updated: addon, object', events, fresh())
  const reference = newReference(workspace)
  throughput('message.updated: reference, object', events, (event) => reference.handleEvent(JOB, event))

  const native = newAddon(workspace)
  for (const line of lines) native.handleEvent(JOB, line)
  const counted = native.report().jobs.find((row: { id: string }) => row.id === JOB)
  const expected = reference.ledger.totals(JOB)
  const pairs: Array<[string, number, number]> = [
    ['input', counted.tokens.input, expected.input],
    ['output', counted.tokens.output, expected.output],
    ['reasoning', counted.tokens.reasoning, expected.reasoning],
    ['cache read', counted.tokens.cacheRead, expected.cacheRead],
    ['cache write', counted.tokens.cacheWrite, expected.cacheWrite],
    ['micro-USD', Math.round(counted.costUsd * 1e6), expected.microUsd],
  ]
  for (const [name, addonValue, referenceValue] of pairs) {
    if (addonValue !== referenceValue) mismatch(`ledger ${name}: addon ${addonValue}, reference ${referenceValue}`)
  }
  console.log(`ledger: ${count} snapshots of ${count / 3} messages, addon counted ${JSON.stringify(counted.tokens)}, $${counted.costUsd}`)
}

/** Event types the addon acts on; a monitor can skip the rest before the
 * call by looking at the raw line. */
const GOVERNED = ['"type":"permission.', '"type":"message.updated"', '"type":"message.part.updated"', '"type":"session.created"', '"type":"session.updated"']

function benchCaptures(workspace: Workspace): void {
  const captures = loadCaptures()
  const total = quick ? 20_000 : 200_000
  const perRound = captures.reduce((sum, capture) => sum + capture.lines.length, 0)
  const rounds = Math.ceil(total / perRound)
  const lines: string[] = []
  const jobs: string[] = []
  for (let round = 0; round < rounds; round++) {
    for (const capture of captures) {
      for (const line of capture.lines) {
        lines.push(varyIds(line, round))
        jobs.push(capture.name)
      }
    }
  }
  const objects = lines.map((line) => JSON.parse(line.slice(5)))
  const setUp = (make: (worktree: string, jobId: string) => any) => {
    const governor = make(captures[0].worktree, captures[0].name)
    for (const capture of captures.slice(1)) {
      if (governor instanceof ReferenceGovernor) governor.registerJob(capture.name, capture.worktree, workspace.home, policy200)
      else governor.registerJob({ jobId: capture.name, planId: 'bench-plan', worktree: capture.worktree, home: workspace.home })
    }
    return governor
  }
  const indexes = lines.map((_, i) => i)
  const nativeObject = setUp((worktree, jobId) => newAddon(workspace, worktree, jobId))
  throughput(`captures x${rounds}: addon, object`, indexes, (i) => nativeObject.handleEvent(jobs[i], objects[i]))
  const nativeText = setUp((worktree, jobId) => newAddon(workspace, worktree, jobId))
  throughput(`captures x${rounds}: addon, SSE text`, indexes, (i) => nativeText.handleEvent(jobs[i], lines[i]))
  const nativeFiltered = setUp((worktree, jobId) => newAddon(workspace, worktree, jobId))
  const skipped = { eventType: 'skipped', budgetActions: [] }
  throughput(`captures x${rounds}: addon, SSE text, governed types only`, indexes, (i) =>
    GOVERNED.some((marker) => lines[i].includes(marker)) ? nativeFiltered.handleEvent(jobs[i], lines[i]) : skipped,
  )
  for (const [name] of extraConventions(newAddon(workspace), () => JOB)) {
    const native = setUp((worktree, jobId) => newAddon(workspace, worktree, jobId))
    let current = 0
    const [, handle, prepare] = extraConventions(native, () => jobs[current]).find(([other]) => other === name)!
    const inputs = lines.map(prepare)
    throughput(`captures x${rounds}: addon, SSE text, ${name}`, indexes, (i) => {
      current = i
      return handle(inputs[i])
    })
  }
  const referenceObject = setUp((worktree, jobId) => newReference(workspace, worktree, jobId))
  throughput(`captures x${rounds}: reference, object`, indexes, (i) => referenceObject.handleEvent(jobs[i], objects[i]))
  const referenceText = setUp((worktree, jobId) => newReference(workspace, worktree, jobId))
  throughput(`captures x${rounds}: reference, SSE text`, indexes, (i) => referenceText.handleEvent(jobs[i], lines[i]))

  // The decisions on every captured permission request, compared.
  const native = setUp((worktree, jobId) => newAddon(workspace, worktree, jobId))
  const reference = setUp((worktree, jobId) => newReference(workspace, worktree, jobId))
  let compared = 0
  for (const capture of captures) {
    for (const line of capture.lines) {
      const a = native.handleEvent(capture.name, line).permission
      const b = reference.handleEvent(capture.name, line).permission
      if (!a && !b) continue
      compared++
      if (a?.decision !== b?.decision) {
        mismatch(`capture ${capture.name} ${a?.permission}: addon ${a?.decision} (${a?.rule}), reference ${b?.decision} (${b?.rule})`)
      }
    }
  }
  console.log(`captured permission requests compared: ${compared}`)
}

function format(ns: number): string {
  if (Number.isNaN(ns)) return '-'
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`
}

function report(): void {
  const width = Math.max(...rows.map((row) => row.name.length))
  console.log(`\n${'benchmark'.padEnd(width)}  ${'median'.padStart(10)}  ${'p99/slowest'.padStart(11)}`)
  for (const row of rows) console.log(`${row.name.padEnd(width)}  ${format(row.median).padStart(10)}  ${format(row.p99).padStart(11)}`)

  console.log('\nratios, reference / addon (medians; above 1 means the addon is faster):')
  const byName = new Map(rows.map((row) => [row.name.replace(/ \(events\/s.*$/, ''), row]))
  for (const row of rows) {
    const name = row.name.replace(/ \(events\/s.*$/, '')
    if (!name.includes(': addon, ')) continue
    const convention = name.split(': addon, ')[1]
    const base = convention.replace(/, (governed types only|handleEvent\w+|handleLine, \w+)$/, '')
    const other = byName.get(name.replace(/: addon, .*$/, `: reference, ${base}`))
    if (other) console.log(`  ${name}: ${(other.median / row.median).toFixed(2)}x`)
  }
  console.log(`\noutcomes acted on: ${approved} approved, ${denied} denied, ${held} held, ${budgetActions} budget actions, ${replied} id characters read`)
  console.log(mismatches.size === 0 ? 'decisions: addon and reference agree on every request' : 'decision mismatches:')
  for (const [key, count] of mismatches) console.log(`  ${count} x ${key}`)
}

const workspace = createWorkspace()
try {
  const overhead = timerOverhead()
  console.log(`node ${process.version}, timer overhead ${overhead} ns, ${SAMPLES} samples per decision benchmark`)
  benchDecisions(workspace, overhead)
  benchLedger(workspace)
  benchCaptures(workspace)
  report()
} finally {
  workspace.remove()
}
