/** Text rendering of CLI output: aligned tables, decision lines and cost lines. */

import type { Diagnostic, PermissionOutcome } from './addon.ts'
import type { SpendRow, SpendSummary } from './spend.ts'

/** Renders rows as columns padded to the widest cell, with a header rule. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)))
  const render = (row: string[]): string =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('  ')
  return [render(header), rule, ...rows.map(render)].join('\n')
}

/** Formats USD with six decimals, enough for per-token prices. */
export function usd(amount: number): string {
  return `$${amount.toFixed(6)}`
}

/** Formats one decision as a line of `watch` output. */
export function decisionLine(jobId: string, outcome: PermissionOutcome, reply: string | null): string {
  const target = outcome.actions[0]?.target ?? ''
  const replied = reply === null ? 'held for the user' : `replied ${reply}`
  return `[${jobId}] ${outcome.decision} ${outcome.category} ${target} (${outcome.rule}): ${outcome.reason}; ${replied}`
}

/** Formats the running cost line of `watch`. */
export function costLine(summary: SpendSummary): string {
  const t = summary.tokens
  return `cost ${usd(summary.costUsd)}  tokens in ${t.input} out ${t.output} reasoning ${t.reasoning} cache read ${t.cacheRead} write ${t.cacheWrite}`
}

export function spendTable(rows: SpendRow[], summary: SpendSummary): string {
  const header = ['kind', 'id', 'parent', 'input', 'output', 'reasoning', 'cache read', 'cache write', 'cost']
  const body = rows.map((row) => [
    row.kind,
    row.id,
    row.parent ?? '',
    String(row.tokens.input),
    String(row.tokens.output),
    String(row.tokens.reasoning),
    String(row.tokens.cacheRead),
    String(row.tokens.cacheWrite),
    usd(row.costUsd),
  ])
  const t = summary.tokens
  body.push([
    'total',
    '',
    '',
    String(t.input),
    String(t.output),
    String(t.reasoning),
    String(t.cacheRead),
    String(t.cacheWrite),
    usd(summary.costUsd),
  ])
  return table(header, body)
}

/** Formats a diagnostic as `file:line:col: path: message (help: ...)`. */
export function diagnosticLine(diagnostic: Diagnostic): string {
  let location = diagnostic.source
  if (diagnostic.line != null) {
    location += `:${diagnostic.line}`
    if (diagnostic.column != null) location += `:${diagnostic.column}`
  }
  const path = diagnostic.path ? ` ${diagnostic.path}:` : ''
  const help = diagnostic.help ? ` (help: ${diagnostic.help})` : ''
  return `${location}:${path} ${diagnostic.message}${help}`
}
