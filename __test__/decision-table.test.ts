// Runs the shared decision table in fixtures/policy-cases.json through the
// built addon, the same table `cargo test` runs through the Rust core.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { explainPolicy } from '../index.js'

interface Case {
  name: string
  policy: string
  decision: string
  category?: string
  command?: string
  edit?: string
  read?: string
  fetch?: string
  mcp?: string
}

const table = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'policy-cases.json'), 'utf8')) as {
  layout: { worktree: string; outside: string; home: string; dirs: string[]; symlinks: Record<string, string> }
  policies: Record<string, string | null>
  cases: Case[]
}

let root = ''
let worktree = ''
let home = ''

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mcg-table-'))
  const layout = table.layout
  mkdirSync(join(root, layout.worktree), { recursive: true })
  mkdirSync(join(root, layout.outside), { recursive: true })
  mkdirSync(join(root, layout.home), { recursive: true })
  for (const dir of layout.dirs) mkdirSync(join(root, layout.worktree, dir), { recursive: true })
  for (const [link, target] of Object.entries(layout.symlinks)) symlinkSync(target, join(root, layout.worktree, link))
  worktree = realpathSync(join(root, layout.worktree))
  home = join(root, layout.home)
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('shared decision table', () => {
  it('keeps at least 80 cases', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(80)
  })

  for (const testCase of table.cases) {
    it(testCase.name, () => {
      const fill = (value?: string) => value?.replaceAll('{worktree}', worktree)
      const policy = table.policies[testCase.policy] ?? undefined
      const explanation = explainPolicy({
        policy,
        worktree,
        home,
        command: fill(testCase.command),
        edit: fill(testCase.edit),
        read: fill(testCase.read),
        fetch: fill(testCase.fetch),
        mcp: fill(testCase.mcp),
      })
      expect(explanation.decision, explanation.reason).toBe(testCase.decision)
      if (testCase.category) expect(explanation.category).toBe(testCase.category)
    })
  }
})
