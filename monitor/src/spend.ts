/**
 * Turns the addon's `CostReport` into rows per plan, job, session and model
 * and a total, for the `replay`, `report` and `watch` output. The report
 * has `total` and arrays `plans`, `jobs`, `sessions` and `models` of
 * `{ id, tokens, costUsd, parent? }`, where `parent` is a job's plan or a
 * session's job.
 */

import type { CostReport, TokenCounts } from './addon.ts'

export type SpendKind = 'plan' | 'job' | 'session' | 'model'

export interface SpendRow {
  kind: SpendKind
  id: string
  tokens: TokenCounts
  costUsd: number
  /** The job a session belongs to, or the plan a job belongs to, when the report names it. */
  parent?: string
}

export interface SpendSummary {
  tokens: TokenCounts
  costUsd: number
  plans: Record<string, SpendFigures>
  jobs: Record<string, SpendFigures>
  sessions: Record<string, SpendFigures>
  models: Record<string, SpendFigures>
}

export interface SpendFigures {
  tokens: TokenCounts
  costUsd: number
  parent?: string
}

const GROUPS: Array<{ kind: SpendKind; key: string }> = [
  { kind: 'plan', key: 'plans' },
  { kind: 'job', key: 'jobs' },
  { kind: 'session', key: 'sessions' },
  { kind: 'model', key: 'models' },
]

export function zeroTokens(): TokenCounts {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }
}

/** Lists the report's jobs, plans and sessions, each group sorted by id. */
export function spendRows(report: CostReport): SpendRow[] {
  const rows: SpendRow[] = []
  for (const group of GROUPS) {
    const entries = entriesOf(report[group.key])
    entries.sort((a, b) => a[0].localeCompare(b[0]))
    for (const [id, value] of entries) {
      const parent = typeof value.parent === 'string' ? value.parent : undefined
      rows.push({ kind: group.kind, id, tokens: tokensOf(value), costUsd: costOf(value), ...(parent ? { parent } : {}) })
    }
  }
  return rows
}

/**
 * Builds the totals and per-entry figures. The total is the report's own
 * `total` when it has one, otherwise the sum over jobs (jobs never share a
 * session).
 */
export function summarize(report: CostReport): SpendSummary {
  const rows = spendRows(report)
  const summary: SpendSummary = { tokens: zeroTokens(), costUsd: 0, plans: {}, jobs: {}, sessions: {}, models: {} }
  for (const row of rows) {
    const figures: SpendFigures = { tokens: row.tokens, costUsd: row.costUsd, ...(row.parent ? { parent: row.parent } : {}) }
    summary[`${row.kind}s`][row.id] = figures
  }
  const total = asRecord(report.total)
  if (total) {
    summary.tokens = tokensOf(total)
    summary.costUsd = costOf(total)
    return summary
  }
  const source = rows.some((row) => row.kind === 'job') ? 'job' : 'session'
  for (const row of rows.filter((candidate) => candidate.kind === source)) {
    addTokens(summary.tokens, row.tokens)
    summary.costUsd += row.costUsd
  }
  return summary
}

export function addTokens(into: TokenCounts, from: TokenCounts): void {
  into.input += from.input
  into.output += from.output
  into.reasoning += from.reasoning
  into.cacheRead += from.cacheRead
  into.cacheWrite += from.cacheWrite
}

function entriesOf(value: unknown): Array<[string, Record<string, unknown>]> {
  if (!Array.isArray(value)) return []
  const entries: Array<[string, Record<string, unknown>]> = []
  for (const item of value) {
    const record = asRecord(item)
    if (record && typeof record.id === 'string') entries.push([record.id, record])
  }
  return entries
}

function tokensOf(value: Record<string, unknown>): TokenCounts {
  const tokens = asRecord(value.tokens) ?? {}
  return {
    input: numberOf(tokens.input),
    output: numberOf(tokens.output),
    reasoning: numberOf(tokens.reasoning),
    cacheRead: numberOf(tokens.cacheRead),
    cacheWrite: numberOf(tokens.cacheWrite),
  }
}

function costOf(value: Record<string, unknown>): number {
  return numberOf(value.costUsd)
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}
