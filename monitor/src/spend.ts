/**
 * Turns the addon's `CostReport` into rows per plan, job, session and model
 * and a total, for the `replay`, `report` and `watch` output.
 */

import type { CostReport, TokenCounts, TotalsReport } from './addon.ts'

export type SpendKind = 'plan' | 'job' | 'session' | 'model'

export interface SpendRow extends SpendFigures {
  kind: SpendKind
  id: string
}

export interface SpendFigures {
  tokens: TokenCounts
  costUsd: number
  /** A job's plan or a session's job, when the report names one. */
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

/** Lists the report's plans, jobs, sessions and models, each group sorted by id. */
export function spendRows(report: CostReport): SpendRow[] {
  const groups: Array<[SpendKind, TotalsReport[]]> = [
    ['plan', report.plans],
    ['job', report.jobs],
    ['session', report.sessions],
    ['model', report.models],
  ]
  const rows: SpendRow[] = []
  for (const [kind, entries] of groups) {
    const sorted = [...entries].sort((a, b) => a.id.localeCompare(b.id))
    for (const entry of sorted) rows.push({ kind, id: entry.id, ...figuresOf(entry) })
  }
  return rows
}

/** Builds the report's total and the figures of each entry, keyed by id. */
export function summarize(report: CostReport): SpendSummary {
  const { tokens, costUsd } = figuresOf(report.total)
  const summary: SpendSummary = { tokens, costUsd, plans: {}, jobs: {}, sessions: {}, models: {} }
  for (const { kind, id, ...figures } of spendRows(report)) summary[`${kind}s`][id] = figures
  return summary
}

function figuresOf(entry: TotalsReport): SpendFigures {
  const { input, output, reasoning, cacheRead, cacheWrite } = entry.tokens
  const figures: SpendFigures = { tokens: { input, output, reasoning, cacheRead, cacheWrite }, costUsd: entry.costUsd }
  if (entry.parent !== undefined) figures.parent = entry.parent
  return figures
}
