/**
 * Turns the addon's `CostReport` into rows per job, plan and session and a
 * total, for the `replay`, `report` and `watch` output.
 */

import type { CostReport, TokenCounts } from './addon.ts'

export type SpendKind = 'job' | 'plan' | 'session'

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
  jobs: Record<string, SpendFigures>
  plans: Record<string, SpendFigures>
  sessions: Record<string, SpendFigures>
}

export interface SpendFigures {
  tokens: TokenCounts
  costUsd: number
  parent?: string
}

const GROUPS: Array<{ kind: SpendKind; key: string; idKeys: string[]; parentKeys: string[] }> = [
  { kind: 'job', key: 'jobs', idKeys: ['jobId', 'id'], parentKeys: ['planId'] },
  { kind: 'plan', key: 'plans', idKeys: ['planId', 'id'], parentKeys: [] },
  { kind: 'session', key: 'sessions', idKeys: ['sessionId', 'id'], parentKeys: ['jobId', 'parentId'] },
]

export function zeroTokens(): TokenCounts {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }
}

/** Lists the report's jobs, plans and sessions, each group sorted by id. */
export function spendRows(report: CostReport): SpendRow[] {
  const rows: SpendRow[] = []
  for (const group of GROUPS) {
    const entries = entriesOf(report[group.key], group.idKeys)
    entries.sort((a, b) => a[0].localeCompare(b[0]))
    for (const [id, value] of entries) {
      const parent = firstString(value, group.parentKeys)
      rows.push({ kind: group.kind, id, tokens: tokensOf(value), costUsd: costOf(value), ...(parent ? { parent } : {}) })
    }
  }
  return rows
}

/**
 * Builds the totals and per-entry figures. The total is the report's own
 * when it has one, otherwise the sum over jobs (jobs never share a session).
 */
export function summarize(report: CostReport): SpendSummary {
  const rows = spendRows(report)
  const summary: SpendSummary = { tokens: zeroTokens(), costUsd: 0, jobs: {}, plans: {}, sessions: {} }
  for (const row of rows) {
    const figures: SpendFigures = { tokens: row.tokens, costUsd: row.costUsd, ...(row.parent ? { parent: row.parent } : {}) }
    summary[`${row.kind}s`][row.id] = figures
  }
  const total = asRecord(report.total) ?? asRecord(report.totals)
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

function entriesOf(value: unknown, idKeys: string[]): Array<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    const entries: Array<[string, Record<string, unknown>]> = []
    for (const item of value) {
      const record = asRecord(item)
      const id = record ? firstString(record, idKeys) : undefined
      if (record && id !== undefined) entries.push([id, record])
    }
    return entries
  }
  const record = asRecord(value)
  if (!record) return []
  const entries: Array<[string, Record<string, unknown>]> = []
  for (const [id, item] of Object.entries(record)) {
    const inner = asRecord(item)
    if (inner) entries.push([id, inner])
  }
  return entries
}

/** Reads token counts whether nested under `tokens` or flat, with `cache.read` or `cacheRead`. */
function tokensOf(value: Record<string, unknown>): TokenCounts {
  const source = asRecord(value.tokens) ?? asRecord(value.usage) ?? value
  const cache = asRecord(source.cache)
  return {
    input: numberOf(source.input),
    output: numberOf(source.output),
    reasoning: numberOf(source.reasoning),
    cacheRead: numberOf(source.cacheRead ?? cache?.read),
    cacheWrite: numberOf(source.cacheWrite ?? cache?.write),
  }
}

function costOf(value: Record<string, unknown>): number {
  for (const key of ['costUsd', 'spentUsd', 'usd', 'cost']) {
    if (typeof value[key] === 'number') return value[key] as number
  }
  return 0
}

function firstString(value: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    if (typeof value[key] === 'string') return value[key] as string
  }
  return undefined
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}
