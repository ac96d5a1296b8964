// The reference governor: the same job registration, classification,
// policy decision, decision log and ledger as the addon, in plain
// TypeScript, for the benchmark's comparison. It mirrors the Rust
// classifier for the permissions OpenCode 1.18 sends; its shell analysis is
// the simple split of shell.ts.

import { analyse } from './shell.ts'
import { normalize, isInside } from './paths.ts'
import { ReferencePolicy, strictest, type Action, type Category, type Decision } from './policy.ts'
import { ReferenceLedger } from './ledger.ts'

const MAX_TOOL_CALLS = 256
const LOG_LIMIT = 1000
const READ_TOOLS = new Set(['read', 'glob', 'grep', 'list'])
const OTHER = new Set(['task', 'skill', 'todowrite', 'todoread', 'doom_loop', 'lsp', 'question', 'plan_exit'])
const PERMISSION_TYPES = new Set(['permission.asked', 'permission.updated', 'permission.v2.asked'])

interface ToolCall {
  tool: string
  input: Record<string, any>
}

interface Job {
  worktree: string
  home: string
  policy: ReferencePolicy
  toolCalls: Map<string, ToolCall>
  /** The newest `LOG_LIMIT` decisions, a ring buffer from `logNext` on. */
  log: unknown[]
  logNext: number
}

export interface ReferenceOutcome {
  eventType: string
  permission?: {
    permissionId: string
    sessionId: string
    permission: string
    category: Category
    decision: Decision
    rule: string
    actions: Array<{ category: Category; scope?: string; target: string; decision: Decision; rule: string }>
  }
  budgetActions: unknown[]
}

export class ReferenceGovernor {
  private readonly jobs = new Map<string, Job>()
  readonly ledger = new ReferenceLedger()

  registerJob(jobId: string, worktree: string, home: string, policy: { permissions: Record<string, unknown> }): void {
    const job = { worktree, home, policy: new ReferencePolicy(policy, worktree, home), toolCalls: new Map(), log: [], logNext: 0 }
    this.jobs.set(jobId, job)
  }

  handleEvent(jobId: string, input: string | Record<string, any>): ReferenceOutcome {
    const job = this.jobs.get(jobId)
    if (!job) throw new Error(`unknown job "${jobId}"`)
    const event = typeof input === 'string' ? parseLine(input) : input
    const envelope = event.type === undefined && event.payload ? event.payload : event
    const type = envelope.type
    if (typeof type !== 'string') throw new Error('invalid event: missing string field "type"')
    const properties = envelope.properties ?? {}
    const outcome: ReferenceOutcome = { eventType: type, budgetActions: [] }

    if (PERMISSION_TYPES.has(type)) {
      outcome.permission = this.decide(job, jobId, type, properties)
    } else if (type === 'message.part.updated' && properties.part?.type === 'tool') {
      rememberToolCall(job, properties.part)
    } else if (type === 'message.updated' && properties.info) {
      this.ledger.account(jobId, properties.info)
    }
    return outcome
  }

  private decide(job: Job, jobId: string, type: string, properties: Record<string, any>): ReferenceOutcome['permission'] {
    const request = readRequest(type, properties)
    const toolCall = request.callId ? job.toolCalls.get(request.callId) : undefined
    const actions = classify(request, toolCall, job)
    const verdicts = actions.map((action) => {
      const verdict = job.policy.evaluate(action)
      return { category: action.category, scope: action.scope, target: action.target, decision: verdict.decision, rule: verdict.rule }
    })
    let deciding = verdicts[0]
    for (const verdict of verdicts) if (strictest(verdict.decision, deciding.decision) !== deciding.decision) deciding = verdict
    const outcome = {
      permissionId: request.id,
      sessionId: request.sessionId,
      permission: request.permission,
      category: deciding?.category ?? 'other',
      decision: deciding?.decision ?? 'ask-user',
      rule: deciding?.rule ?? 'unclassified',
      actions: verdicts,
    }
    job.log[job.logNext] = { timeMs: Date.now(), jobId, ...outcome }
    job.logNext = (job.logNext + 1) % LOG_LIMIT
    return outcome
  }
}

function parseLine(line: string): Record<string, any> {
  const trimmed = line.trim()
  const json = trimmed.startsWith('data:') ? trimmed.slice(5) : trimmed
  const value = JSON.parse(json)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('invalid event: expected a JSON object')
  return value
}

interface Request {
  id: string
  sessionId: string
  permission: string
  patterns: string[]
  metadata: Record<string, any>
  title?: string
  legacy: boolean
  callId?: string
}

function readRequest(type: string, p: Record<string, any>): Request {
  const required = (key: string) => {
    const value = p[key]
    if (typeof value !== 'string' || value === '') throw new Error(`invalid ${type} event: field "${key}" must be a non-empty string`)
    return value
  }
  const list = (value: unknown) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value])
  if (type === 'permission.updated') {
    return { id: required('id'), sessionId: required('sessionID'), permission: required('type'), patterns: list(p.pattern), metadata: p.metadata ?? {}, title: p.title, legacy: true, callId: p.callID }
  }
  const v2 = type === 'permission.v2.asked'
  const source = v2 ? p.source : p.tool
  return {
    id: required('id'),
    sessionId: required('sessionID'),
    permission: required(v2 ? 'action' : 'permission'),
    patterns: list(v2 ? p.resources : p.patterns),
    metadata: p.metadata ?? {},
    legacy: false,
    callId: source?.callID,
  }
}

function rememberToolCall(job: Job, part: Record<string, any>): void {
  if (typeof part.callID !== 'string' || typeof part.tool !== 'string') return
  job.toolCalls.delete(part.callID)
  job.toolCalls.set(part.callID, { tool: part.tool, input: part.state?.input ?? {} })
  if (job.toolCalls.size > MAX_TOOL_CALLS) job.toolCalls.delete(job.toolCalls.keys().next().value as string)
}

function classify(request: Request, toolCall: ToolCall | undefined, job: Job): Action[] {
  const permission = request.permission
  switch (permission) {
    case 'edit': case 'write': case 'patch': case 'multiedit': case 'apply_patch':
      return fileActions(request, 'file_edit', job)
    case 'read': case 'list': case 'glob': case 'grep':
      return fileActions(request, 'file_read', job)
    case 'external_directory':
      return externalDirectoryActions(request, toolCall, job)
    case 'bash':
      return shellActions(bashCommand(request), shellCwd(toolCall, job), job)
    case 'webfetch':
      return [networkAction(request, 'url')]
    case 'websearch': case 'codesearch':
      return [networkAction(request, 'query')]
    default:
      if (OTHER.has(permission)) return [{ category: 'other', target: request.patterns[0] ? `${permission} ${request.patterns[0]}` : permission }]
      return [{ category: 'mcp_tools', target: permission }]
  }
}

function scopeOf(path: string, job: Job): 'inside_worktree' | 'outside_worktree' {
  return isInside(path, job.worktree) ? 'inside_worktree' : 'outside_worktree'
}

function fileAction(category: Category, target: string, job: Job): Action {
  const path = normalize(target, job.worktree, job.home)
  return { category, scope: scopeOf(path, job), target: path }
}

function fileActions(request: Request, category: Category, job: Job): Action[] {
  const filepath = request.metadata.filepath
  const targets = typeof filepath === 'string' && filepath !== '' ? [filepath] : request.patterns.filter((p) => p !== '')
  if (targets.length === 0) return [{ category, scope: 'outside_worktree', target: request.permission, opaque: 'names no file' }]
  return targets.map((target) => fileAction(category, target, job))
}

function externalDirectoryActions(request: Request, toolCall: ToolCall | undefined, job: Job): Action[] {
  if (typeof request.metadata.command === 'string') return shellActions(request.metadata.command, shellCwd(toolCall, job), job)
  const tool = toolCall?.tool ?? ''
  if (tool === 'bash') return shellActions(String(toolCall?.input.command ?? ''), shellCwd(toolCall, job), job)
  const category: Category = READ_TOOLS.has(tool) ? 'file_read' : 'file_edit'
  let targets: string[] = []
  for (const key of ['filepath', 'parentDir']) {
    if (typeof request.metadata[key] === 'string') {
      targets = [request.metadata[key]]
      break
    }
  }
  if (targets.length === 0) targets = request.patterns.map((p) => p.replace(/\*+$/, '').replace(/\/+$/, '') || p)
  if (targets.length === 0) return [{ category, scope: 'outside_worktree', target: request.permission, opaque: 'names no path' }]
  return targets.map((target) => fileAction(category, target, job))
}

function bashCommand(request: Request): string {
  if (typeof request.metadata.command === 'string') return request.metadata.command
  if (request.legacy && typeof request.title === 'string') return request.title
  return request.patterns.join('\n')
}

function shellCwd(toolCall: ToolCall | undefined, job: Job): string {
  const workdir = toolCall?.input.workdir
  return typeof workdir === 'string' && workdir !== '' ? normalize(workdir, job.worktree, job.home) : job.worktree
}

function shellActions(command: string, cwd: string, job: Job): Action[] {
  const scope = scopeOf(cwd, job)
  if (command.trim() === '') return [{ category: 'shell_command', scope, target: command, opaque: 'no command' }]
  const analysis = analyse(command, cwd, job.home)
  const actions: Action[] = analysis.opaque.map((reason) => ({ category: 'shell_command', scope, target: command, opaque: reason }))
  for (const sub of analysis.subCommands) {
    actions.push({ category: 'shell_command', scope: scopeOf(sub.cwd, job), target: sub.text, command: sub, opaque: sub.opaque })
    for (const effect of sub.effects) {
      if (effect.kind === 'writes') actions.push({ category: 'file_edit', scope: scopeOf(effect.path, job), target: effect.path })
      else if (effect.kind === 'reads') actions.push({ category: 'file_read', scope: scopeOf(effect.path, job), target: effect.path })
      else if (effect.kind === 'network') actions.push({ category: 'network_access', target: effect.target, command: sub })
      else actions.push({ category: 'install_packages', target: sub.text, command: sub })
    }
  }
  if (actions.length === 0) actions.push({ category: 'shell_command', scope, target: command, opaque: 'no command to run' })
  return actions
}

function networkAction(request: Request, key: string): Action {
  const value = request.metadata[key]
  const target = typeof value === 'string' ? value : (request.patterns[0] ?? '')
  return { category: 'network_access', target, opaque: target === '' ? 'names no target' : undefined }
}
