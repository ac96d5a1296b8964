/** The offline commands: `check`, `explain`, `replay` and `report`. */

import { writeFileSync } from 'node:fs'
import { loadAddon, type BudgetAction, type ExplainInit, type Governor, type PermissionOutcome } from './addon.ts'
import { booleanOption, parseCommand, stringOption, UsageError, type OptionSpec } from './cli-args.ts'
import { diagnosticLine, spendTable, table } from './format.ts'
import { planIdOf, readInput, worktreePath } from './inputs.ts'
import { formatProblem, parseCapture, type CaptureProblem } from './replay.ts'
import { spendRows, summarize } from './spend.ts'

/** Sink for a command's result lines, called once per line. */
export type Output = (line: string) => void

/** `check FILE`: returns the exit status, 1 when the file has problems. */
export function checkCommand(args: string[], out: Output): number {
  const parsed = parseCommand('check', args, {}, 1)
  const file = parsed.positionals[0]
  if (file === undefined) throw new UsageError('"check" needs a FILE', 'run mc-governance check policy.yaml')
  const text = readInput('config file', file)
  const result = loadAddon().checkConfig(text, file)
  for (const diagnostic of result.diagnostics) out(diagnosticLine(diagnostic))
  if (result.ok) {
    out(`${file}: ok`)
    return 0
  }
  out(`${file}: ${plural(result.diagnostics.length, 'problem')}`)
  return 1
}

const EXPLAIN_OPTIONS: OptionSpec = {
  policy: { type: 'string' },
  worktree: { type: 'string' },
  command: { type: 'string' },
  edit: { type: 'string' },
  read: { type: 'string' },
  fetch: { type: 'string' },
  mcp: { type: 'string' },
  json: { type: 'boolean' },
}

const REQUEST_KINDS = ['command', 'edit', 'read', 'fetch', 'mcp'] as const

export function explainCommand(args: string[], out: Output): number {
  const parsed = parseCommand('explain', args, EXPLAIN_OPTIONS, 0)
  const worktree = worktreePath(stringOption('explain', parsed, 'worktree', true), false)
  const policyFile = stringOption('explain', parsed, 'policy')
  const given = REQUEST_KINDS.filter((kind) => parsed.values[kind] !== undefined)
  if (given.length !== 1) {
    const received = given.length === 0 ? 'none' : given.map((kind) => `--${kind}`).join(' and ')
    throw new UsageError(
      `"explain" needs exactly one request, received ${received}`,
      'give one of --command CMD, --edit PATH, --read PATH, --fetch URL or --mcp TOOL',
    )
  }
  const kind = given[0] as (typeof REQUEST_KINDS)[number]
  const request: ExplainInit = { [kind]: stringOption('explain', parsed, kind, true) }
  const policy = policyFile === undefined ? undefined : readInput('--policy', policyFile)
  const policyInit = policy === undefined ? {} : { policy, policySource: policyFile }
  const explanation = loadAddon().explainPolicy({ ...policyInit, worktree, ...request })

  if (booleanOption(parsed, 'json')) {
    out(JSON.stringify(explanation))
    return 0
  }
  out(`decision: ${explanation.decision}`)
  out(`category: ${explanation.category}`)
  out(`rule:     ${explanation.rule}`)
  out(`layer:    ${explanation.layer}`)
  out(`reason:   ${explanation.reason}`)
  const effects = explanation.effects ?? []
  out(`effects:  ${effects.length === 0 ? 'none' : ''}`.trimEnd())
  for (const effect of effects) out(`  - ${effect}`)
  const actions = explanation.actions ?? []
  if (actions.length > 0) {
    out('')
    out(table(['category', 'scope', 'target', 'decision', 'rule'], actions.map((a) => [a.category, a.scope ?? '', a.target, a.decision, a.rule])))
  }
  return 0
}

/** A decision as `replay --json` prints it. */
export interface DecisionRecord {
  type: 'decision'
  line: number
  permissionId: string
  sessionId: string
  permission: string
  category: string
  decision: string
  reason: string
  rule: string
  layer: string
}

/** A budget action as `replay --json` prints it, with the capture line that caused it. */
export type BudgetRecord = { type: 'budget'; line: number } & BudgetAction

export interface ReplayResult {
  decisions: DecisionRecord[]
  budget: BudgetRecord[]
  /** Capture lines skipped because they were malformed or the governor rejected them. */
  problems: CaptureProblem[]
  events: number
  governor: Governor
}

export interface ReplayOptions {
  capturePath: string
  worktree: string
  jobId?: string
  policyPath?: string
  planPath?: string
}

/** Feeds a capture to a fresh governor, one event at a time, as the live monitor would. */
export function runReplay(options: ReplayOptions): ReplayResult {
  const capture = parseCapture(readInput('capture', options.capturePath))
  const governor = createGovernor(options.policyPath)
  const jobId = options.jobId ?? 'replay'
  const planId = registerPlanFile(governor, options.planPath)
  governor.registerJob({ jobId, worktree: options.worktree, ...(planId === undefined ? {} : { planId }) })

  const result: ReplayResult = { decisions: [], budget: [], problems: [...capture.problems], events: 0, governor }
  for (const { line, event } of capture.events) {
    try {
      const outcome = governor.handleEvent(jobId, event)
      result.events += 1
      if (outcome.permission) result.decisions.push(decisionRecord(line, outcome.permission))
      for (const action of outcome.budgetActions) result.budget.push({ type: 'budget', line, ...action })
    } catch (error) {
      result.problems.push({ line, message: `governor rejected the event: ${error instanceof Error ? error.message : String(error)}` })
    }
  }
  result.problems.sort((a, b) => a.line - b.line)
  return result
}

const REPLAY_OPTIONS: OptionSpec = {
  worktree: { type: 'string' },
  'save-snapshot': { type: 'string' },
  policy: { type: 'string' },
  plan: { type: 'string' },
  job: { type: 'string' },
  json: { type: 'boolean' },
}

export function replayCommand(args: string[], out: Output, err: Output): number {
  const parsed = parseCommand('replay', args, REPLAY_OPTIONS, 1)
  const capturePath = parsed.positionals[0]
  if (capturePath === undefined) throw new UsageError('"replay" needs a capture FILE', 'run mc-governance replay events.sse --worktree DIR')
  const result = runReplay(replayOptions('replay', parsed, capturePath))
  for (const problem of result.problems) err(`skipped ${formatProblem(capturePath, problem)}`)
  // A capture whose every line was skipped is not one: say so in the status.
  const status = result.events === 0 && result.problems.length > 0 ? 1 : 0
  if (status === 1) err(`mc-governance: no line of ${capturePath} could be read as an event`)
  const snapshotPath = stringOption('replay', parsed, 'save-snapshot')
  if (snapshotPath !== undefined) saveSnapshot(result.governor, snapshotPath)

  const summary = summarize(result.governor.report())
  if (booleanOption(parsed, 'json')) {
    const records: Array<DecisionRecord | BudgetRecord> = [...result.decisions, ...result.budget]
    // Stable sort: on one line a decision comes before the budget actions.
    records.sort((a, b) => a.line - b.line)
    for (const record of records) out(JSON.stringify(record))
    out(JSON.stringify({ type: 'summary', ...summary, events: result.events, decisions: result.decisions.length, skippedLines: result.problems.length }))
    return status
  }
  out(
    table(
      ['line', 'session', 'permission', 'category', 'decision', 'reason'],
      result.decisions.map((d) => [String(d.line), d.sessionId, d.permission, d.category, d.decision, d.reason]),
    ),
  )
  if (result.budget.length > 0) {
    out('')
    out(table(['line', 'budget', 'message'], result.budget.map((b) => [String(b.line), b.kind, b.message])))
  }
  out('')
  out(spendTable(spendRows(result.governor.report()), summary))
  out('')
  out(`${plural(result.events, 'event')}, ${plural(result.decisions.length, 'decision')}, ${plural(result.problems.length, 'skipped line')}`)
  return status
}

const REPORT_OPTIONS: OptionSpec = {
  snapshot: { type: 'string' },
  replay: { type: 'string' },
  worktree: { type: 'string' },
  policy: { type: 'string' },
  plan: { type: 'string' },
  job: { type: 'string' },
  json: { type: 'boolean' },
}

export function reportCommand(args: string[], out: Output, err: Output): number {
  const parsed = parseCommand('report', args, REPORT_OPTIONS, 0)
  const snapshotPath = stringOption('report', parsed, 'snapshot')
  const capturePath = stringOption('report', parsed, 'replay')
  if ((snapshotPath === undefined) === (capturePath === undefined)) {
    throw new UsageError('"report" needs exactly one of --snapshot FILE or --replay FILE', 'run mc-governance report --snapshot state.json')
  }
  let governor: Governor
  if (snapshotPath !== undefined) {
    governor = restoreSnapshot(snapshotPath)
  } else {
    const result = runReplay(replayOptions('report', parsed, capturePath as string))
    for (const problem of result.problems) err(`skipped ${formatProblem(capturePath as string, problem)}`)
    governor = result.governor
  }
  const report = governor.report()
  const summary = summarize(report)
  if (booleanOption(parsed, 'json')) {
    out(JSON.stringify({ type: 'report', ...summary }))
    return 0
  }
  out(spendTable(spendRows(report), summary))
  return 0
}

/** Writes the governor's cost and budget state where `report --snapshot` can read it. */
export function saveSnapshot(governor: Governor, path: string): void {
  try {
    writeFileSync(path, governor.snapshot())
  } catch (error) {
    throw new Error(`failed to write the snapshot to "${path}": ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Creates a governor with the global config from `policyPath`, or the built-in default. */
export function createGovernor(policyPath: string | undefined): Governor {
  const { Governor } = loadAddon()
  if (policyPath === undefined) return new Governor()
  return new Governor({ globalConfig: readInput('--policy', policyPath), globalConfigSource: policyPath })
}

/** Registers the plan in `planPath`, if any, and returns its id. */
export function registerPlanFile(governor: Governor, planPath: string | undefined): string | undefined {
  if (planPath === undefined) return undefined
  const text = readInput('--plan', planPath)
  const planId = planIdOf(planPath, text)
  governor.registerPlan(planId, text, planPath)
  return planId
}

function replayOptions(command: string, parsed: ReturnType<typeof parseCommand>, capturePath: string): ReplayOptions {
  const options: ReplayOptions = { capturePath, worktree: worktreePath(stringOption(command, parsed, 'worktree', true), false) }
  const policyPath = stringOption(command, parsed, 'policy')
  const planPath = stringOption(command, parsed, 'plan')
  const jobId = stringOption(command, parsed, 'job')
  if (policyPath !== undefined) options.policyPath = policyPath
  if (planPath !== undefined) options.planPath = planPath
  if (jobId !== undefined) options.jobId = jobId
  return options
}

function decisionRecord(line: number, permission: PermissionOutcome): DecisionRecord {
  return {
    type: 'decision',
    line,
    permissionId: permission.permissionId,
    sessionId: permission.sessionId,
    permission: permission.permission,
    category: permission.category,
    decision: permission.decision,
    reason: permission.reason,
    rule: permission.rule,
    layer: permission.layer,
  }
}


function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** Restores a governor from a snapshot file; an error names the file. */
function restoreSnapshot(path: string): Governor {
  const text = readInput('--snapshot', path)
  try {
    return loadAddon().Governor.restore(text)
  } catch (error) {
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
}
