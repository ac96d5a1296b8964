// Drives an `opencode serve` instance over HTTP: records the raw `/event`
// stream, creates sessions, sends prompts and replies to permission requests.

/**
 * One parsed SSE `data:` payload. `/event` sends `{ id, type, properties }`;
 * `/api/event` sends `{ id, type, data, ... }` and `/global/event` sends
 * `{ directory, payload }`, hence the open shape.
 */
export interface OpencodeEvent {
  id?: string
  type: string
  properties: Record<string, any>
  [key: string]: any
}

/** Event types that ask for a permission reply, across OpenCode versions. */
export const PERMISSION_ASK_TYPES = ['permission.asked', 'permission.updated', 'permission.v2.asked']

/**
 * The `/event` stream from connect to close: the raw SSE text byte for byte
 * and the parsed events in order.
 */
export class EventRecorder {
  raw = ''
  events: OpencodeEvent[] = []
  private readonly controller = new AbortController()
  private buffer = ''
  private listeners = new Set<() => void>()
  private done: Promise<void> = Promise.resolve()

  /**
   * Subscribes to `path` (`/event`, or the experimental `/api/event`, or
   * `/global/event`) and returns once the server's first event has arrived,
   * so no later event is missed.
   */
  static async connect(baseUrl: string, path = '/event'): Promise<EventRecorder> {
    const recorder = new EventRecorder()
    const res = await fetch(`${baseUrl}${path}`, { signal: recorder.controller.signal })
    if (!res.ok || !res.body) throw new Error(`GET ${path} failed with status ${res.status}`)
    recorder.done = recorder.pump(res.body)
    await recorder.waitFor(() => true, 10_000)
    return recorder
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true })
        this.raw += text
        this.buffer += text
        this.parseBuffer()
      }
    } catch {
      // Aborted by close(), or the server went away.
    }
  }

  private parseBuffer(): void {
    let end = this.buffer.indexOf('\n\n')
    while (end >= 0) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n')
      if (data) {
        try {
          this.events.push(JSON.parse(data) as OpencodeEvent)
        } catch {
          // Not JSON: kept in `raw` only.
        }
      }
      end = this.buffer.indexOf('\n\n')
    }
    for (const listener of this.listeners) listener()
  }

  /** Resolves with the first matching event at index `from` or later, already seen or future. */
  waitFor(predicate: (event: OpencodeEvent) => boolean, timeoutMs = 30_000, from = 0): Promise<OpencodeEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(predicate)
        if (!found) return false
        cleanup()
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no matching event within ${timeoutMs} ms`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.listeners.delete(listener)
      }
      const listener = () => void check()
      this.listeners.add(listener)
      check()
    })
  }

  /** Calls `handler` once for every event from index `from` on, including ones already recorded. */
  onEvent(handler: (event: OpencodeEvent) => void, from = 0): () => void {
    let seen = from
    const listener = () => {
      while (seen < this.events.length) handler(this.events[seen++])
    }
    this.listeners.add(listener)
    listener()
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.controller.abort()
    await this.done
  }
}

export class OpencodeClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} failed with status ${res.status}: ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }

  createSession(body: Record<string, unknown> = {}): Promise<{ id: string; [key: string]: any }> {
    return this.request('POST', '/session', body)
  }

  /** Starts a turn and returns at once; progress arrives on `/event`. */
  prompt(sessionId: string, text: string): Promise<unknown> {
    return this.request('POST', `/session/${sessionId}/prompt_async`, { parts: [{ type: 'text', text }] })
  }

  reply(requestId: string, reply: 'once' | 'always' | 'reject', message?: string): Promise<unknown> {
    return this.request('POST', `/permission/${requestId}/reply`, message === undefined ? { reply } : { reply, message })
  }

  messages(sessionId: string): Promise<Array<{ info: any; parts: any[] }>> {
    return this.request('GET', `/session/${sessionId}/message`)
  }

  session(sessionId: string): Promise<any> {
    return this.request('GET', `/session/${sessionId}`)
  }

  children(sessionId: string): Promise<any[]> {
    return this.request('GET', `/session/${sessionId}/children`)
  }

  abort(sessionId: string): Promise<unknown> {
    return this.request('POST', `/session/${sessionId}/abort`)
  }
}

/** True for the event that marks `sessionId` idle (new `session.status` or older `session.idle`). */
export function isIdleEvent(event: OpencodeEvent, sessionId: string): boolean {
  const props = event.properties ?? {}
  if (props.sessionID !== sessionId) return false
  if (event.type === 'session.idle') return true
  return event.type === 'session.status' && props.status?.type === 'idle'
}
