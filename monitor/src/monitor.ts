/**
 * Governs OpenCode jobs: reads each server's event stream, hands every event
 * to the addon's `Governor` synchronously, and carries out what it returns.
 *
 * Fail-closed contract: a permission request is replied `once` only when the
 * governor returned `auto-approve` for it. An exception from the addon, an
 * unknown decision or a failed reply leaves the request pending on the server
 * and reports it as held, so only a user's `answer` can approve it.
 */

import { EventEmitter } from 'node:events'
import type { BudgetAction, BudgetExtension, EventOutcome, Governor, PermissionOutcome, Reply } from './addon.ts'
import { Backoff, sleep, type BackoffOptions } from './backoff.ts'
import { errorMessage, silentLogger, type Logger } from './log.ts'
import type { OpencodeEvent } from './replay.ts'
import { isPermissionKind, OpencodeServer, type PermissionKind, type PermissionRef } from './server.ts'

/** One job: an OpenCode server and the policy that governs it. */
export interface JobSpec {
  jobId: string
  /** Base URL of `opencode serve`, for example `http://127.0.0.1:4096`. */
  url: string
  /** Absolute path of the job's worktree; the policy's inside/outside boundary. */
  worktree: string
  planId?: string
  /** Job-level policy override (YAML/JSON text or object). */
  policy?: string | Record<string, unknown>
  trust?: string
  /** The agent's home directory, for `~` in commands; default: this process's `HOME`. */
  home?: string
  /** Project directory sent to the server; default: the server's own. */
  directory?: string
}

/** Reason a request waits for the user. */
export type HoldCause = 'ask-user' | 'addon-error' | 'reply-failed' | 'invalid-decision'

export interface HeldPermission extends PermissionRef {
  jobId: string
  permission: string
  category?: string
  reason: string
  cause: HoldCause
}

export interface DecisionEvent {
  jobId: string
  outcome: PermissionOutcome
  /** The reply sent, or `null` when the request was held. */
  reply: Reply | null
}

export interface BudgetEvent {
  /** The job whose event or extension produced the action; unset for `extendPlan`. */
  jobId?: string
  /** The plan passed to `extendPlan`. */
  planId?: string
  action: BudgetAction
}

/** What produced a batch of budget actions. */
type BudgetSource = { jobId: string; planId?: undefined } | { jobId?: undefined; planId: string }

export interface CostEvent {
  jobId: string
  sessionId?: string
  eventType: string
}

export interface MonitorErrorEvent {
  jobId: string
  sessionId?: string
  permissionId?: string
  error: Error
}

export interface ReconnectEvent {
  jobId: string
  attempt: number
  delayMs: number
  reason: string
}

export interface MonitorEvents {
  decision: [DecisionEvent]
  held: [HeldPermission]
  budget: [BudgetEvent]
  cost: [CostEvent]
  error: [MonitorErrorEvent]
  reconnect: [ReconnectEvent]
  connected: [{ jobId: string }]
  /** Every event read from a stream, after the governor has seen it. */
  event: [{ jobId: string; event: OpencodeEvent }]
}

export interface MonitorOptions {
  governor: Governor
  logger?: Logger
  backoff?: BackoffOptions
  /**
   * Skip `governor.registerJob` in `addJob`, for callers that registered
   * jobs themselves (for example after `Governor.restore`). Default false.
   */
  jobsRegistered?: boolean
  /**
   * Text sent to each session that a `pause` aborted when the governor
   * returns `resume` (after `extendJob` or `extendPlan`). Default: none, so
   * a resume is only emitted as a `budget` event.
   */
  resumePrompt?: string
  /**
   * Milliseconds a new connection may take to deliver its first event before
   * it is closed and retried. While it starts, OpenCode 1.18.33 accepts
   * connections for a few hundred milliseconds and never responds to requests
   * sent on them, so without a deadline a reconnect can wait forever.
   * Default 10 000.
   */
  connectTimeoutMs?: number
}

/**
 * Permission ids remembered per job. OpenCode re-sends a request only while
 * it is pending, so the newest ids are enough. Older ones are dropped to keep
 * a long-running monitor's memory bounded.
 */
const MAX_HANDLED_IDS = 10_000

/** A set of ids that drops the oldest once it contains `limit` of them. */
export class HandledIds {
  private readonly ids = new Set<string>()

  constructor(private readonly limit: number) {}

  has(id: string): boolean {
    return this.ids.has(id)
  }

  add(id: string): void {
    if (this.ids.has(id)) return
    this.ids.add(id)
    if (this.ids.size > this.limit) {
      const oldest = this.ids.values().next().value
      if (oldest !== undefined) this.ids.delete(oldest)
    }
  }

  get size(): number {
    return this.ids.size
  }
}

/**
 * Hands an event to the governor as JSON text. `handleEventText` is the
 * addon's fastest call (BENCHMARKS.md): V8 stringifies and parses faster
 * than the binding converts objects, and events with nothing to act on
 * come back as null without building an outcome.
 */
export function handleAsText(governor: Governor, jobId: string, event: OpencodeEvent): EventOutcome {
  const text = governor.handleEventText(jobId, JSON.stringify(event))
  if (text === null) return { eventType: String(event.type), budgetActions: [] }
  return JSON.parse(text) as EventOutcome
}

interface JobState {
  spec: JobSpec
  server: OpencodeServer
  backoff: Backoff
  /** Permission ids already decided or held, so a re-sent request is not handled twice. */
  handled: HandledIds
  loop?: Promise<void>
}

export class Monitor extends EventEmitter<MonitorEvents> {
  private readonly governor: Governor
  private readonly log: Logger
  private readonly backoffOptions: BackoffOptions
  private readonly jobsRegistered: boolean
  private readonly resumePrompt: string | undefined
  private readonly connectTimeoutMs: number
  /** Sessions aborted by a `pause`, per job, to prompt again on `resume`. */
  private readonly pausedSessions = new Map<string, Set<string>>()
  private readonly jobs = new Map<string, JobState>()
  private readonly heldRequests = new Map<string, HeldPermission>()
  /** Session id to job id, learnt from events, for aborting plan-wide. */
  private readonly sessionJobs = new Map<string, string>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private stopController = new AbortController()
  private running = false

  constructor(options: MonitorOptions) {
    super()
    this.governor = options.governor
    this.log = options.logger ?? silentLogger
    this.backoffOptions = options.backoff ?? {}
    this.jobsRegistered = options.jobsRegistered ?? false
    this.resumePrompt = options.resumePrompt
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  }

  /** Registers a job with the governor and, if the monitor runs, starts watching it. */
  addJob(spec: JobSpec): void {
    if (this.jobs.has(spec.jobId)) throw new Error(`job "${spec.jobId}" is already monitored`)
    if (!this.jobsRegistered) {
      this.governor.registerJob({
        jobId: spec.jobId,
        worktree: spec.worktree,
        ...(spec.planId === undefined ? {} : { planId: spec.planId }),
        ...(spec.policy === undefined ? {} : { policy: spec.policy }),
        ...(spec.trust === undefined ? {} : { trust: spec.trust }),
        ...(spec.home === undefined ? {} : { home: spec.home }),
      })
    }
    const state: JobState = {
      spec,
      server: new OpencodeServer(spec.url, spec.directory),
      backoff: new Backoff(this.backoffOptions),
      handled: new HandledIds(MAX_HANDLED_IDS),
    }
    this.jobs.set(spec.jobId, state)
    if (this.running) state.loop = this.watch(state)
  }

  /** Starts watching every job's event stream. Returns at once. */
  start(): void {
    if (this.running) return
    this.running = true
    this.stopController = new AbortController()
    for (const state of this.jobs.values()) state.loop = this.watch(state)
  }

  /** Closes every stream and waits for replies already sent. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopController.abort()
    await Promise.allSettled([...this.jobs.values()].map((state) => state.loop))
    await this.settle()
  }

  /** Waits until replies and aborts already started have finished. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  /** Requests waiting for the user, oldest first. */
  held(): HeldPermission[] {
    return [...this.heldRequests.values()]
  }

  /**
   * Replies to a held request as the user decided. Throws when the id is not
   * held or the server rejects the reply; the request then stays held.
   */
  async answer(permissionId: string, reply: Reply, message?: string): Promise<void> {
    const held = this.heldRequests.get(permissionId)
    if (!held) throw new Error(`permission "${permissionId}" is not held (help: list held requests with held())`)
    const state = this.requireJob(held.jobId)
    await state.server.reply(held, reply, message)
    this.heldRequests.delete(permissionId)
    this.log.info('user replied to held permission', { jobId: held.jobId, sessionId: held.sessionId, permissionId, reply })
  }

  /** Raises a job's budget and carries out the actions the governor returns (for example `resume`). */
  extendJob(jobId: string, extension: BudgetExtension): BudgetAction[] {
    const actions = this.governor.extendJob(jobId, extension)
    this.applyBudget({ jobId }, actions)
    return actions
  }

  /** Raises a plan's budget; see `extendJob`. */
  extendPlan(planId: string, extension: BudgetExtension): BudgetAction[] {
    const actions = this.governor.extendPlan(planId, extension)
    this.applyBudget({ planId }, actions)
    return actions
  }

  /** Sends a text prompt to a session of a job, for example "continue" after a resume. */
  async prompt(jobId: string, sessionId: string, text: string): Promise<void> {
    await this.requireJob(jobId).server.prompt(sessionId, text)
  }

  /**
   * Handles one event as if it came from the job's stream. The governor
   * decides synchronously, and replies and aborts run in the background (see `settle`).
   */
  handle(jobId: string, event: OpencodeEvent): void {
    const state = this.requireJob(jobId)
    this.dispatch(state, event)
  }

  private requireJob(jobId: string): JobState {
    const state = this.jobs.get(jobId)
    if (!state) throw new Error(`unknown job "${jobId}" (help: add it with addJob first)`)
    return state
  }

  private async watch(state: JobState): Promise<void> {
    const { jobId, url } = state.spec
    const signal = this.stopController.signal
    this.log.info('watching job', { jobId, url })
    while (!signal.aborted) {
      const reason = await this.readStream(state, signal)
      if (signal.aborted) break
      const delayMs = state.backoff.next()
      const attempt = state.backoff.attempts
      this.log.warn('event stream ended, reconnecting', { jobId, url, attempt, delayMs, reason })
      this.notify('reconnect', { jobId, attempt, delayMs, reason })
      await sleep(delayMs, signal)
    }
    this.log.info('stopped watching job', { jobId, url })
  }

  /** Reads one connection until it ends; returns why it ended. */
  private async readStream(state: JobState, signal: AbortSignal): Promise<string> {
    const jobId = state.spec.jobId
    let streamError: unknown
    const openedAt = Date.now()
    // One controller per connection: stopping the monitor or the first-event deadline closes it.
    const connection = new AbortController()
    const close = () => connection.abort()
    signal.addEventListener('abort', close, { once: true })
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      close()
    }, this.connectTimeoutMs)
    try {
      const stream = await state.server.subscribe(connection.signal, (error) => {
        streamError = error
      })
      for await (const event of stream) {
        clearTimeout(deadline)
        if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
          // The SDK yields the raw text when a data field is not JSON.
          this.log.warn('skipped an event that is not a JSON object with a "type"', { jobId, data: String(event).slice(0, 80) })
          continue
        }
        if (event.type === 'server.connected') this.onConnected(state)
        this.dispatch(state, event)
      }
    } catch (error) {
      streamError = error
    } finally {
      clearTimeout(deadline)
      signal.removeEventListener('abort', close)
    }
    state.backoff.recordUptime(Date.now() - openedAt)
    if (signal.aborted) return 'stopped'
    if (timedOut) streamError = `no event within ${this.connectTimeoutMs} ms of connecting`
    if (streamError === undefined) return 'stream closed by server'
    const message = errorMessage(streamError)
    this.log.error('event stream failed', { jobId, url: state.spec.url, error: message })
    return message
  }

  private onConnected(state: JobState): void {
    const jobId = state.spec.jobId
    this.log.info('event stream connected', { jobId, url: state.spec.url })
    this.notify('connected', { jobId })
    this.track(this.catchUpUsage(state))
    // Requests asked while the stream was down produce no event on reconnect.
    this.track(
      state.server.pendingPermissions().then(
        (pending) => {
          for (const request of pending) {
            if (state.handled.has(request.id)) continue
            this.dispatch(state, { type: 'permission.asked', properties: request })
          }
        },
        (error: unknown) => this.reportError(jobId, error, {}),
      ),
    )
  }

  private dispatch(state: JobState, event: OpencodeEvent): void {
    this.decide(state, event)
    this.notify('event', { jobId: state.spec.jobId, event })
  }

  private decide(state: JobState, event: OpencodeEvent): void {
    const jobId = state.spec.jobId
    const ref = permissionRef(event)
    if (ref && state.handled.has(ref.permissionId)) return
    if (event.type === 'permission.replied' || event.type === 'permission.v2.replied') this.onReplied(event)
    this.rememberSession(jobId, event)

    let outcome: EventOutcome
    try {
      outcome = handleAsText(this.governor, jobId, event)
    } catch (error) {
      this.reportError(jobId, error, { sessionId: ref?.sessionId, permissionId: ref?.permissionId })
      if (ref) this.hold(state, ref, { permission: permissionName(event), reason: `governor failed: ${errorMessage(error)}`, cause: 'addon-error' })
      return
    }

    if (outcome.permission) this.carryOut(state, ref, outcome.permission)
    else if (ref) this.hold(state, ref, { permission: permissionName(event), reason: 'governor returned no decision', cause: 'invalid-decision' })
    if (outcome.budgetActions.length > 0) this.applyBudget({ jobId }, outcome.budgetActions)
    if (isCostEvent(event)) this.notify('cost', { jobId, sessionId: sessionOf(event), eventType: event.type })
  }

  private carryOut(state: JobState, eventRef: PermissionRef | undefined, outcome: PermissionOutcome): void {
    const jobId = state.spec.jobId
    const ref: PermissionRef = eventRef ?? { kind: 'permission.asked', permissionId: outcome.permissionId, sessionId: outcome.sessionId }
    const details = { permission: outcome.permission, category: outcome.category, reason: outcome.reason }
    const reply = replyFor(outcome)
    this.log.info('decision', { jobId, sessionId: ref.sessionId, permissionId: ref.permissionId, category: outcome.category, decision: outcome.decision, rule: outcome.rule })
    this.notify('decision', { jobId, outcome, reply })
    if (reply === null) {
      const cause: HoldCause = outcome.decision === 'ask-user' ? 'ask-user' : 'invalid-decision'
      this.hold(state, ref, { ...details, cause })
      return
    }
    state.handled.add(ref.permissionId)
    const message = reply === 'reject' ? outcome.reason : undefined
    this.track(
      state.server.reply(ref, reply, message).catch((error: unknown) => {
        this.reportError(jobId, error, { sessionId: ref.sessionId, permissionId: ref.permissionId })
        this.hold(state, ref, { ...details, reason: `reply "${reply}" failed: ${errorMessage(error)}`, cause: 'reply-failed' }, true)
      }),
    )
  }

  private hold(
    state: JobState,
    ref: PermissionRef,
    details: { permission: string; category?: string; reason: string; cause: HoldCause },
    force = false,
  ): void {
    if (state.handled.has(ref.permissionId) && !force) return
    state.handled.add(ref.permissionId)
    const held: HeldPermission = { ...ref, jobId: state.spec.jobId, ...details }
    this.heldRequests.set(ref.permissionId, held)
    this.log.info('permission held for the user', { jobId: held.jobId, sessionId: ref.sessionId, permissionId: ref.permissionId, cause: details.cause })
    this.notify('held', held)
  }

  private onReplied(event: OpencodeEvent): void {
    const id = stringProperty(event, 'requestID') ?? stringProperty(event, 'permissionID')
    if (id !== undefined && this.heldRequests.delete(id)) {
      this.log.info('held permission replied to by another client', { permissionId: id })
    }
  }

  private applyBudget(source: BudgetSource, actions: BudgetAction[]): void {
    for (const action of actions) {
      this.log.warn('budget action', { ...source, kind: action.kind, scope: action.scope, message: action.message })
      this.notify('budget', { ...source, action })
      if (action.kind === 'pause' || action.kind === 'kill') {
        for (const sessionId of action.sessions) this.abortSession(source.jobId, sessionId, action.kind === 'pause')
      } else if (action.kind === 'resume') {
        this.resumeSessions(action.jobs.length > 0 || source.jobId === undefined ? action.jobs : [source.jobId])
      }
    }
  }

  private abortSession(fallbackJobId: string | undefined, sessionId: string, remember: boolean): void {
    // A plan-wide action can list sessions of other jobs, which may run on other servers.
    const jobId = this.sessionJobs.get(sessionId) ?? fallbackJobId
    const state = jobId === undefined ? undefined : this.jobs.get(jobId)
    if (jobId === undefined || !state) {
      this.log.error('cannot abort a session of no monitored job', { jobId, sessionId })
      return
    }
    if (remember) {
      const paused = this.pausedSessions.get(jobId) ?? new Set<string>()
      paused.add(sessionId)
      this.pausedSessions.set(jobId, paused)
    }
    this.log.info('aborting session', { jobId, sessionId })
    this.track(state.server.abort(sessionId).catch((error: unknown) => this.reportError(jobId, error, { sessionId })))
  }

  private resumeSessions(jobIds: string[]): void {
    for (const jobId of jobIds) {
      const paused = this.pausedSessions.get(jobId)
      const state = this.jobs.get(jobId)
      this.pausedSessions.delete(jobId)
      if (!paused || !state || this.resumePrompt === undefined) continue
      for (const sessionId of paused) {
        this.log.info('prompting paused session to continue', { jobId, sessionId })
        this.track(state.server.prompt(sessionId, this.resumePrompt).catch((error: unknown) => this.reportError(jobId, error, { sessionId })))
      }
    }
  }

  /**
   * Re-reads the usage of the job's known sessions and their children from
   * the server. Steps finished while the stream was down produce no event on
   * reconnect. The governor counts each message once, so what it saw live is
   * not counted again.
   */
  private async catchUpUsage(state: JobState): Promise<void> {
    const jobId = state.spec.jobId
    const known = [...this.sessionJobs].filter(([, owner]) => owner === jobId).map(([sessionId]) => sessionId)
    for (const sessionId of known) {
      try {
        const children = await state.server.childSessions(sessionId)
        for (const child of children) {
          if (typeof child.id === 'string' && !this.sessionJobs.has(child.id)) this.sessionJobs.set(child.id, jobId)
        }
      } catch (error) {
        this.reportError(jobId, error, { sessionId })
      }
    }

    const sessions = [...this.sessionJobs].filter(([, owner]) => owner === jobId).map(([sessionId]) => sessionId)
    for (const sessionId of sessions) {
      let messages: Awaited<ReturnType<OpencodeServer['messages']>>
      try {
        messages = await state.server.messages(sessionId)
      } catch (error) {
        this.reportError(jobId, error, { sessionId })
        continue
      }
      for (const { info, parts } of messages) {
        if (info.role !== 'assistant') continue
        for (const part of parts) {
          if (part.type === 'step-finish') this.dispatch(state, { type: 'message.part.updated', properties: { sessionID: sessionId, part } })
        }
        this.dispatch(state, { type: 'message.updated', properties: { sessionID: sessionId, info } })
      }
    }
  }

  private rememberSession(jobId: string, event: OpencodeEvent): void {
    const sessionId = sessionOf(event)
    if (sessionId !== undefined && !this.sessionJobs.has(sessionId)) this.sessionJobs.set(sessionId, jobId)
  }

  /** Emits an event; a listener that throws is logged and cannot stop the monitor's own work. */
  private notify<K extends keyof MonitorEvents>(name: K, ...args: MonitorEvents[K]): void {
    try {
      const emit = this.emit as (name: K, ...args: MonitorEvents[K]) => boolean
      emit.call(this, name, ...args)
    } catch (error) {
      this.log.error('monitor event listener failed', { event: name, error: errorMessage(error) })
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise)
    void promise.finally(() => this.inFlight.delete(promise))
  }

  private reportError(jobId: string, error: unknown, ids: { sessionId?: string | undefined; permissionId?: string | undefined }): void {
    const wrapped = error instanceof Error ? error : new Error(String(error))
    this.log.error('monitor error', { jobId, sessionId: ids.sessionId, permissionId: ids.permissionId, error: wrapped.message })
    // An `error` event without a listener would throw from emit.
    if (this.listenerCount('error') > 0) {
      this.emit('error', { jobId, ...definedIds(ids), error: wrapped })
    }
  }
}

/** Maps a decision to the reply the monitor sends itself, or `null` to hold. */
function replyFor(outcome: PermissionOutcome): Reply | null {
  switch (outcome.decision) {
    case 'auto-approve':
      return 'once'
    case 'deny':
      return 'reject'
    default:
      return null
  }
}

function permissionRef(event: OpencodeEvent): PermissionRef | undefined {
  if (!isPermissionKind(event.type)) return undefined
  const permissionId = stringProperty(event, 'id')
  const sessionId = stringProperty(event, 'sessionID')
  if (permissionId === undefined || sessionId === undefined) return undefined
  return { kind: event.type as PermissionKind, permissionId, sessionId }
}

function permissionName(event: OpencodeEvent): string {
  return stringProperty(event, 'permission') ?? stringProperty(event, 'action') ?? stringProperty(event, 'type') ?? 'unknown'
}

function isCostEvent(event: OpencodeEvent): boolean {
  if (event.type === 'message.updated') return true
  if (event.type !== 'message.part.updated') return false
  const part = event.properties?.part
  return typeof part === 'object' && part !== null && (part as Record<string, unknown>).type === 'step-finish'
}

/** Returns the session id an event belongs to, wherever its type keeps it. */
export function sessionOf(event: OpencodeEvent): string | undefined {
  const props = event.properties ?? {}
  if (typeof props.sessionID === 'string') return props.sessionID
  for (const key of ['info', 'part']) {
    const inner = props[key]
    if (typeof inner !== 'object' || inner === null) continue
    const record = inner as Record<string, unknown>
    if (typeof record.sessionID === 'string') return record.sessionID
    if (key === 'info' && event.type.startsWith('session.') && typeof record.id === 'string') return record.id
  }
  return undefined
}

function stringProperty(event: OpencodeEvent, key: string): string | undefined {
  const value = event.properties?.[key]
  return typeof value === 'string' ? value : undefined
}

function definedIds(ids: { sessionId?: string | undefined; permissionId?: string | undefined }): { sessionId?: string; permissionId?: string } {
  const result: { sessionId?: string; permissionId?: string } = {}
  if (ids.sessionId !== undefined) result.sessionId = ids.sessionId
  if (ids.permissionId !== undefined) result.permissionId = ids.permissionId
  return result
}
