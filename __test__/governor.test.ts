// The addon's contract from TypeScript: decisions, errors as
// exceptions, layering, status and the decision log.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConfig, explainPolicy, Governor } from '../index.js'

let worktree = ''

beforeAll(() => {
  worktree = realpathSync(mkdtempSync(join(tmpdir(), 'mcg-governor-')))
})

afterAll(() => {
  rmSync(worktree, { recursive: true, force: true })
})

function permissionEvent(id: string, permission: string, patterns: string[], metadata: Record<string, unknown>) {
  return {
    type: 'permission.asked',
    properties: { id, sessionID: 'ses_1', permission, patterns, metadata, always: [], tool: { messageID: 'msg_1', callID: `call_${id}` } },
  }
}

function editEvent(id: string, path: string) {
  return permissionEvent(id, 'edit', [path], { filepath: join(worktree, path) })
}

function bashEvent(id: string, command: string) {
  return permissionEvent(id, 'bash', [command], { command })
}

describe('permission decisions', () => {
  it('decides each category by the default policy', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })

    const inside = governor.handleEvent('job', editEvent('p1', 'src/a.ts'))
    expect(inside.eventType).toBe('permission.asked')
    expect(inside.permission?.decision).toBe('auto-approve')
    expect(inside.permission?.category).toBe('file_edit')
    expect(inside.permission?.permissionId).toBe('p1')
    expect(inside.permission?.sessionId).toBe('ses_1')

    const outside = governor.handleEvent('job', editEvent('p2', '../escape.txt'))
    expect(outside.permission?.decision).toBe('deny')
    expect(outside.permission?.rule).toBe('file_edit.outside_worktree (default)')
    expect(outside.permission?.reason).toContain('outside the worktree')

    const install = governor.handleEvent('job', bashEvent('p3', 'npm install left-pad'))
    expect(install.permission?.decision).toBe('ask-user')
    expect(install.permission?.category).toBe('install_packages')

    const fetch = governor.handleEvent('job', permissionEvent('p4', 'webfetch', ['http://127.0.0.1:9/x'], { url: 'http://127.0.0.1:9/x' }))
    expect(fetch.permission?.decision).toBe('deny')
    expect(fetch.permission?.category).toBe('network_access')

    const mcp = governor.handleEvent('job', permissionEvent('p5', 'github_create_issue', ['*'], {}))
    expect(mcp.permission?.decision).toBe('auto-approve')
    expect(mcp.permission?.category).toBe('mcp_tools')
  })

  it('takes the strictest action of a compound command', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    const outcome = governor.handleEvent('job', bashEvent('p1', 'ls && echo x > /tmp/mcg-escape'))
    expect(outcome.permission?.decision).toBe('deny')
    expect(outcome.permission?.category).toBe('file_edit')
    const decisions = outcome.permission?.actions.map((action) => action.decision)
    expect(decisions).toContain('auto-approve')
    expect(decisions).toContain('deny')
  })

  it('accepts JSON text and SSE data lines', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    const text = JSON.stringify(editEvent('p1', 'a.txt'))
    expect(governor.handleEvent('job', text).permission?.decision).toBe('auto-approve')
    expect(governor.handleEvent('job', `data: ${text}`).permission?.decision).toBe('auto-approve')
  })

  it('ignores events it does not act on', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    const outcome = governor.handleEvent('job', { type: 'server.heartbeat', properties: {} })
    expect(outcome).toEqual({ eventType: 'server.heartbeat', budgetActions: [] })
  })
})

describe('layering', () => {
  const plan = `
plan: refactor-auth
permissions:
  network_access:
    default: deny
    rules: [ { pattern: "registry.npmjs.org", decision: auto-approve } ]
jobs:
  fix-typo:
    trust: restricted
`

  it('applies plan rules and per-job trust levels', () => {
    const governor = new Governor()
    governor.registerPlan('refactor-auth', plan, 'plan.yaml')
    governor.registerJob({ jobId: 'feature', planId: 'refactor-auth', worktree })
    governor.registerJob({ jobId: 'fix-typo', planId: 'refactor-auth', worktree })

    const command = bashEvent('p1', 'ls src')
    expect(governor.handleEvent('feature', command).permission?.decision).toBe('auto-approve')
    const restricted = governor.handleEvent('fix-typo', command).permission
    expect(restricted?.decision).toBe('ask-user')
    expect(restricted?.layer).toBe('job')

    const fetch = permissionEvent('p2', 'webfetch', ['https://registry.npmjs.org/x'], { url: 'https://registry.npmjs.org/x' })
    expect(governor.handleEvent('feature', fetch).permission?.decision).toBe('auto-approve')
  })

  it('keeps lower layers when a job override sets one field', () => {
    const governor = new Governor({ globalConfig: { permissions: { mcpTools: 'deny' } } })
    governor.registerJob({ jobId: 'job', worktree, policy: { permissions: { networkAccess: 'ask-user' } } })
    const fetch = permissionEvent('p1', 'webfetch', ['https://example.org'], { url: 'https://example.org' })
    expect(governor.handleEvent('job', fetch).permission?.decision).toBe('ask-user')
    expect(governor.handleEvent('job', permissionEvent('p2', 'slack_post', ['*'], {})).permission?.decision).toBe('deny')
  })
})

describe('errors', () => {
  it('rejects an unknown job with the fix', () => {
    const governor = new Governor()
    expect(() => governor.handleEvent('missing', editEvent('p1', 'a'))).toThrow(
      'unknown job "missing" (help: register the job with registerJob first)',
    )
  })

  it('rejects malformed events', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    expect(() => governor.handleEvent('job', '{not json')).toThrow(/invalid event: not valid JSON/)
    expect(() => governor.handleEvent('job', { properties: {} })).toThrow('invalid event: missing string field "type"')
    const noId = { type: 'permission.asked', properties: { sessionID: 's', permission: 'edit' } }
    expect(() => governor.handleEvent('job', noId)).toThrow('invalid permission.asked event: missing field "id"')
  })

  it('rejects an invalid policy with its position', () => {
    const governor = new Governor()
    const policy = 'permissions:\n  file_edit:\n    inside_worktree: allow\n'
    expect(() => governor.registerPlan('p', policy, 'plan.yaml')).toThrow(
      /plan\.yaml:3:22: permissions\.file_edit\.inside_worktree: invalid decision "allow"/,
    )
  })

  it('rejects a relative worktree', () => {
    const governor = new Governor()
    expect(() => governor.registerJob({ jobId: 'job', worktree: 'relative/dir' })).toThrow(
      'worktree "relative/dir" must be an absolute path',
    )
  })

  it('rejects a job of an unknown plan', () => {
    const governor = new Governor()
    expect(() => governor.registerJob({ jobId: 'job', worktree, planId: 'nope' })).toThrow('unknown plan "nope"')
  })
})

describe('status and log', () => {
  it('summarises decisions per job and plan', () => {
    const governor = new Governor()
    governor.registerPlan('plan', {})
    governor.registerJob({ jobId: 'a', planId: 'plan', worktree })
    governor.registerJob({ jobId: 'b', planId: 'plan', worktree })
    governor.handleEvent('a', editEvent('p1', 'x'))
    governor.handleEvent('a', editEvent('p2', '../y'))
    governor.handleEvent('b', bashEvent('p3', 'npm i left-pad'))

    const job = governor.jobStatus('a')
    expect(job.total).toEqual({ autoApprove: 1, askUser: 0, deny: 1 })
    expect(job.latestViolations.map((record) => record.permissionId)).toEqual(['p2'])
    expect(job.lines[0]).toBe('job a: 2 decisions (1 auto-approve, 0 ask-user, 1 deny)')

    const plan = governor.planStatus('plan')
    expect(plan.total).toEqual({ autoApprove: 1, askUser: 1, deny: 1 })
    expect(plan.latestViolations.map((record) => record.permissionId).sort()).toEqual(['p2', 'p3'])
    expect(plan.categories.map((entry) => entry.category)).toEqual(['file_edit', 'install_packages'])
  })

  it('bounds the log and counts what it dropped', () => {
    const governor = new Governor({ logLimit: 3 })
    governor.registerJob({ jobId: 'job', worktree })
    for (let index = 0; index < 10; index += 1) governor.handleEvent('job', editEvent(`p${index}`, 'a'))
    const log = governor.decisionLog('job')
    expect(log.entries.map((entry) => entry.permissionId)).toEqual(['p7', 'p8', 'p9'])
    expect(log.dropped).toBe(7)
    expect(log.entries[0].rule).toBe('file_edit.inside_worktree (default)')
  })
})

describe('checking and explaining', () => {
  it('lists every problem of a config', () => {
    const result = checkConfig('permisions: {}\npermissions:\n  network_access: maybe\n', 'bad.yaml')
    expect(result.ok).toBe(false)
    expect(result.diagnostics).toHaveLength(2)
    expect(result.diagnostics[0].help).toContain('permissions')
    expect(result.diagnostics[1].path).toBe('permissions.network_access')
    expect(result.diagnostics[1].line).toBe(3)
  })

  it('accepts a valid config', () => {
    expect(checkConfig('permissions:\n  network_access: deny\n')).toEqual({ ok: true, diagnostics: [] })
  })

  it('explains a command with its effects', () => {
    const explanation = explainPolicy({ worktree, command: 'cd .. && rm -rf build' })
    expect(explanation.decision).toBe('deny')
    expect(explanation.category).toBe('file_edit')
    expect(explanation.effects.length).toBeGreaterThan(1)
    expect(explanation.rule).toBe('file_edit.outside_worktree (default)')
  })

  it('rejects an explain request naming two targets', () => {
    expect(() => explainPolicy({ worktree, command: 'ls', edit: 'a' })).toThrow(
      'expected exactly one of command, edit, read, fetch or mcp, got 2',
    )
  })
})

describe('text calling convention', () => {
  it('returns JSON text for a decision and null otherwise', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    const line = `data: ${JSON.stringify(editEvent('p1', '../escape.txt'))}`
    const text = governor.handleEventText('job', line)
    expect(text).not.toBeNull()
    const outcome = JSON.parse(text as string)
    expect(outcome.permission.decision).toBe('deny')
    expect(outcome.budgetActions).toEqual([])
    expect(governor.handleEventText('job', JSON.stringify({ type: 'session.status', properties: {} }))).toBeNull()
    expect(governor.handleEventText('job', JSON.stringify({ type: 'message.part.delta', properties: 'x' }))).toBeNull()
  })

  it('rejects malformed text', () => {
    const governor = new Governor()
    governor.registerJob({ jobId: 'job', worktree })
    expect(() => governor.handleEventText('job', '{"type": "permission.asked", "properties": {}}')).toThrow(
      'invalid permission.asked event: missing field "id"',
    )
    expect(() => governor.handleEventText('job', '[1]')).toThrow('invalid event: expected a JSON object')
  })
})
