import { describe, expect, it } from 'vitest'
import { spendTable } from '../monitor/src/format.ts'
import type { CostReport, TotalsReport } from '../monitor/src/addon.ts'
import { spendRows, summarize } from '../monitor/src/spend.ts'

function totals(id: string, input: number, costUsd: number, parent?: string): TotalsReport {
  return {
    id,
    tokens: { input, output: 10, reasoning: 2, cacheRead: 5, cacheWrite: 1, total: input + 18 },
    costUsd,
    reportedUsd: costUsd,
    estimatedUsd: 0,
    costSource: 'reported',
    unpricedTokens: 0,
    requests: 1,
    ...(parent === undefined ? {} : { parent }),
  }
}

// The shape of `Governor.report()`: a total and arrays of totals rows.
const report: CostReport = {
  total: totals('total', 300, 0.03),
  plans: [totals('plan-a', 300, 0.03)],
  jobs: [totals('job-2', 100, 0.01, 'plan-a'), totals('job-1', 200, 0.02, 'plan-a')],
  sessions: [totals('ses_b', 100, 0.01, 'job-2'), totals('ses_a', 200, 0.02, 'job-1')],
  models: [totals('scripted/scripted-model', 300, 0.03)],
  unpricedModels: [],
  disagreements: [],
}

describe('spend summary', () => {
  it('takes the total from the report', () => {
    const summary = summarize(report)
    expect(summary.tokens).toEqual({ input: 300, output: 10, reasoning: 2, cacheRead: 5, cacheWrite: 1 })
    expect(summary.costUsd).toBe(0.03)
  })

  it('keys figures by id with parents', () => {
    const summary = summarize(report)
    expect(Object.keys(summary.jobs)).toEqual(['job-1', 'job-2'])
    expect(summary.jobs['job-1']).toEqual({ tokens: { input: 200, output: 10, reasoning: 2, cacheRead: 5, cacheWrite: 1 }, costUsd: 0.02, parent: 'plan-a' })
    expect(summary.sessions.ses_b?.parent).toBe('job-2')
    expect(Object.keys(summary.models)).toEqual(['scripted/scripted-model'])
  })

  it('orders rows by kind then id', () => {
    const rows = spendRows(report).map((row) => `${row.kind}:${row.id}`)
    expect(rows).toEqual(['plan:plan-a', 'job:job-1', 'job:job-2', 'session:ses_a', 'session:ses_b', 'model:scripted/scripted-model'])
  })

  it('renders a table with a total line', () => {
    const lines = spendTable(spendRows(report), summarize(report)).split('\n')
    expect(lines[0]).toMatch(/^kind +id +parent +input +output +reasoning +cache read +cache write +cost$/)
    expect(lines.at(-1)).toMatch(/^total +300 +10 +2 +5 +1 +\$0\.030000$/)
    expect(lines).toHaveLength(2 + 6 + 1)
  })
})
