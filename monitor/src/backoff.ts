/**
 * Exponential reconnect delays with jitter, reset once a connection has
 * stayed up for a healthy period.
 */

export interface BackoffOptions {
  /** First delay in milliseconds. Default 250. */
  initialMs?: number
  /** Largest delay in milliseconds, before jitter. Default 10 000. */
  maxMs?: number
  /**
   * Fraction of each delay that is randomised: a delay `d` becomes a value in
   * `[d * (1 - jitter), d]`. Default 0.2.
   */
  jitter?: number
  /** A connection that lasted at least this long (ms) resets the delay. Default 30 000. */
  healthyAfterMs?: number
  /** Random source in `[0, 1)`, injectable for tests. Default `Math.random`. */
  random?: () => number
}

export class Backoff {
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly jitter: number
  readonly healthyAfterMs: number
  private readonly random: () => number
  private attempt = 0

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250
    this.maxMs = options.maxMs ?? 10_000
    this.jitter = options.jitter ?? 0.2
    this.healthyAfterMs = options.healthyAfterMs ?? 30_000
    this.random = options.random ?? Math.random
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt
  }

  /** Returns the next delay in milliseconds and advances the sequence. */
  next(): number {
    const base = Math.min(this.initialMs * 2 ** this.attempt, this.maxMs)
    this.attempt += 1
    return Math.round(base * (1 - this.jitter * this.random()))
  }

  /** Starts the sequence again from `initialMs`. */
  reset(): void {
    this.attempt = 0
  }

  /** Resets when a connection that lasted `uptimeMs` counts as healthy. */
  recordUptime(uptimeMs: number): void {
    if (uptimeMs >= this.healthyAfterMs) this.reset()
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
