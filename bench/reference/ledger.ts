// The reference ledger: tokens and USD per job, each message counted once.
// OpenCode sends a growing snapshot of a message several times, so the
// ledger keeps the last snapshot of each open message and adds only the
// difference. A completed message's entry is released and its id goes into
// a bounded set, so a repeated final snapshot adds nothing.

export interface Totals {
  input: number
  output: number
  reasoning: number
  cacheRead: number
  cacheWrite: number
  /** USD in micro-dollars, as integers to keep the sums exact. */
  microUsd: number
}

const COMPLETED_REMEMBERED = 10_000

function zero(): Totals {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, microUsd: 0 }
}

export class ReferenceLedger {
  private readonly jobs = new Map<string, Totals>()
  private readonly open = new Map<string, Totals>()
  private readonly completed = new Set<string>()

  account(jobId: string, info: Record<string, any>): void {
    const id = info.id
    if (typeof id !== 'string' || info.role !== 'assistant' || this.completed.has(id)) return
    const tokens = info.tokens ?? {}
    const snapshot: Totals = {
      input: tokens.input ?? 0,
      output: tokens.output ?? 0,
      reasoning: tokens.reasoning ?? 0,
      cacheRead: tokens.cache?.read ?? 0,
      cacheWrite: tokens.cache?.write ?? 0,
      microUsd: Math.round((info.cost ?? 0) * 1e6),
    }
    const previous = this.open.get(id) ?? zero()
    const job = this.jobs.get(jobId) ?? zero()
    for (const key of Object.keys(job) as (keyof Totals)[]) job[key] += Math.max(0, snapshot[key] - previous[key])
    this.jobs.set(jobId, job)

    if (info.time?.completed) {
      this.open.delete(id)
      this.completed.add(id)
      if (this.completed.size > COMPLETED_REMEMBERED) {
        const oldest = this.completed.values().next().value
        if (oldest !== undefined) this.completed.delete(oldest)
      }
    } else {
      this.open.set(id, snapshot)
    }
  }

  totals(jobId: string): Totals {
    return this.jobs.get(jobId) ?? zero()
  }

  openMessages(): number {
    return this.open.size
  }
}
