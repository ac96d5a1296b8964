// Helpers for end-to-end tests in which a Monitor governs real `opencode
// serve` processes: what the monitor did, waiting for sessions, the servers'
// own totals, and teardown.

import type { BudgetEvent, DecisionEvent, HeldPermission, Monitor, ReconnectEvent } from '../../monitor/src/monitor.ts'
import type { OpencodeEvent } from '../../monitor/src/replay.ts'
import type { TotalsReport } from '../../index.js'

/** Everything a monitor emitted, each with the time it was seen (ms since the epoch). */
export class MonitorLog {
  readonly decisions: Array<DecisionEvent & { at: number }> = []
  readonly held: Array<HeldPermission & { at: number }> = []
  readonly budget: Array<BudgetEvent & { at: number }> = []
  readonly reconnects: Array<ReconnectEvent & { at: number }> = []
  readonly connected: Array<{ jobId: string; at: number }> = []
  readonly errors: string[] = []
  /** Sessions that went idle, per job, with every time they did. */
  private readonly idle = new Map<string, number[]>()
  private readonly waiters = new Set<() => void>()

  constructor(monitor: Monitor) {
    monitor.on('decision', (event) => this.push(this.decisions, event))
    monitor.on('held', (event) => this.push(this.held, event))
    monitor.on('budget', (event) => this.push(this.budget, event))
    monitor.on('reconnect', (event) => this.push(this.reconnects, event))
    monitor.on('connected', (event) => this.push(this.connected, event))
    monitor.on('error', ({ jobId, error }) => {
      this.errors.push(`${jobId}: ${error.message}`)
      this.wake()
    })
    monitor.on('event', ({ event }) => {
      const sessionId = idleSession(event)
      if (sessionId === undefined) return
      this.idle.set(sessionId, [...(this.idle.get(sessionId) ?? []), Date.now()])
      this.wake()
    })
  }

  /** Times the session went idle, oldest first. */
  idleTimes(sessionId: string): number[] {
    return this.idle.get(sessionId) ?? []
  }

  /** Resolves once `predicate` holds, checked after every monitor event; rejects after `timeoutMs`. */
  until(what: string, predicate: () => boolean, timeoutMs = 45_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; monitor errors: ${JSON.stringify(this.errors)}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  /**
   * Resolves when the session goes idle after `sinceMs` (ms since the epoch).
   * One stop can report idle more than once (an abort does), so tests wait
   * for the first idle after a known point instead of counting them.
   */
  idleSince(sessionId: string, sinceMs = 0, timeoutMs?: number): Promise<void> {
    return this.until(`session ${sessionId} to go idle`, () => this.idleTimes(sessionId).some((at) => at > sinceMs), timeoutMs)
  }

  private push<T extends object>(list: Array<T & { at: number }>, event: T): void {
    list.push({ ...event, at: Date.now() })
    this.wake()
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/**
 * Returns the session that `session.status` reports idle. OpenCode 1.18.33
 * follows it with a `session.idle` event for the same stop, which is not
 * counted, so each stop counts once.
 */
function idleSession(event: OpencodeEvent): string | undefined {
  const props = event.properties ?? {}
  const status = props.status as { type?: unknown } | undefined
  if (event.type !== 'session.status' || status?.type !== 'idle') return undefined
  return typeof props.sessionID === 'string' ? props.sessionID : undefined
}

/** Token counts in the report's spelling. */
export interface Tokens {
  input: number
  output: number
  reasoning: number
  cacheRead: number
  cacheWrite: number
}

/** A session's usage as the server itself reports it. */
export interface ServerTotals {
  /**
   * Sum over the assistant messages of `GET /session/{id}/message`.
   * `roundedMicros` sums each message's cost rounded to whole micro-dollars,
   * the unit the governor's ledger keeps. `count` is the number of messages
   * with any tokens: a step cut short before the model answered has none.
   */
  messages: { tokens: Tokens; costUsd: number; roundedMicros: number; count: number }
  /** `tokens` and `cost` of `GET /session/{id}`. */
  session: { tokens: Tokens; costUsd: number }
}

interface RawTokens {
  input: number
  output: number
  reasoning: number
  cache: { read: number; write: number }
}

export async function serverTotals(url: string, sessionId: string): Promise<ServerTotals> {
  const messages = (await getJson(url, `/session/${sessionId}/message`)) as Array<{ info: { role: string; cost?: number; tokens?: RawTokens } }>
  const info = (await getJson(url, `/session/${sessionId}`)) as { cost: number; tokens: RawTokens }
  const sum: Tokens = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }
  let costUsd = 0
  let roundedMicros = 0
  let count = 0
  for (const { info: message } of messages) {
    if (message.role !== 'assistant' || !message.tokens) continue
    const tokens = tokensOf(message.tokens)
    if (Object.values(tokens).some((value) => value > 0)) count += 1
    for (const key of Object.keys(sum) as Array<keyof Tokens>) sum[key] += tokens[key]
    costUsd += message.cost ?? 0
    roundedMicros += Math.round((message.cost ?? 0) * 1_000_000)
  }
  return { messages: { tokens: sum, costUsd, roundedMicros, count }, session: { tokens: tokensOf(info.tokens), costUsd: info.cost } }
}

function tokensOf(raw: RawTokens): Tokens {
  return { input: raw.input, output: raw.output, reasoning: raw.reasoning, cacheRead: raw.cache.read, cacheWrite: raw.cache.write }
}

/** The report row's tokens without `total`, to compare with the server's. */
export function reportTokens(row: TotalsReport | undefined): Tokens | undefined {
  if (!row) return undefined
  const { input, output, reasoning, cacheRead, cacheWrite } = row.tokens
  return { input, output, reasoning, cacheRead, cacheWrite }
}

export function addTokens(a: Tokens, b: Tokens): Tokens {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  }
}

/** Whether `GET /session/status` lists the session as busy or retrying; idle sessions are left out of it. */
export async function isBusy(url: string, sessionId: string): Promise<boolean> {
  const status = (await getJson(url, '/session/status')) as Record<string, { type?: string }>
  return status[sessionId] !== undefined && status[sessionId].type !== 'idle'
}

export async function getJson(url: string, path: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`)
  const text = await res.text()
  if (!res.ok) throw new Error(`GET ${path} failed with status ${res.status}: ${text}`)
  return JSON.parse(text) as unknown
}

/** The tool parts of a session's messages, in order: tool name, input and final state. */
export async function toolParts(url: string, sessionId: string): Promise<Array<{ tool: string; input: Record<string, unknown>; status: string; error?: string; output?: string }>> {
  const messages = (await getJson(url, `/session/${sessionId}/message`)) as Array<{ parts: Array<Record<string, any>> }>
  return messages.flatMap(({ parts }) =>
    parts
      .filter((part) => part.type === 'tool')
      .map((part) => ({
        tool: String(part.tool),
        input: (part.state?.input ?? {}) as Record<string, unknown>,
        status: String(part.state?.status),
        ...(typeof part.state?.error === 'string' ? { error: part.state.error } : {}),
        ...(typeof part.state?.output === 'string' ? { output: part.state.output } : {}),
      })),
  )
}

/** Teardown steps run last-in first-out; a failing step does not stop the rest. */
export class Teardown {
  private readonly steps: Array<() => unknown> = []

  add<T>(value: T, step: (value: T) => unknown): T {
    this.steps.push(() => step(value))
    return value
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()
      try {
        await step?.()
      } catch {
        // Keep tearing down the rest.
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
