/**
 * The calls the monitor makes to one `opencode serve` instance, through the
 * v2 client of `@opencode-ai/sdk` (checked against opencode-ai 1.18.33).
 */

import { createOpencodeClient, type OpencodeClient } from '@opencode-ai/sdk/v2'
import type { Reply } from './addon.ts'
import type { OpencodeEvent } from './replay.ts'

/**
 * Event type that announced a permission request. Each has its own reply route:
 * `permission.asked` uses `POST /permission/{id}/reply`, the legacy
 * `permission.updated` uses `POST /session/{sid}/permissions/{id}`, and
 * `permission.v2.asked` uses `POST /api/session/{sid}/permission/{id}/reply`.
 */
export type PermissionKind = 'permission.asked' | 'permission.updated' | 'permission.v2.asked'

export const PERMISSION_KINDS: readonly string[] = ['permission.asked', 'permission.updated', 'permission.v2.asked']

export function isPermissionKind(type: string): type is PermissionKind {
  return PERMISSION_KINDS.includes(type)
}

export interface PermissionRef {
  kind: PermissionKind
  permissionId: string
  sessionId: string
}

/** A pending request from `GET /permission`, shaped like `permission.asked` properties. */
export type PendingPermission = Record<string, unknown> & { id: string; sessionID: string }

export class OpencodeServer {
  readonly url: string
  private readonly client: OpencodeClient

  constructor(url: string, directory?: string) {
    this.url = url
    this.client = createOpencodeClient(directory ? { baseUrl: url, directory } : { baseUrl: url })
  }

  /**
   * Opens `GET /event` once. The SDK's own retry loop is disabled
   * (`sseMaxRetryAttempts: 1`) because the monitor controls reconnects.
   * A connection or read error goes to `onError` and then ends the stream.
   */
  async subscribe(signal: AbortSignal, onError: (error: unknown) => void): Promise<AsyncIterable<OpencodeEvent>> {
    const { stream } = await this.client.event.subscribe(undefined, {
      signal,
      sseMaxRetryAttempts: 1,
      onSseError: onError,
    })
    return stream as AsyncIterable<OpencodeEvent>
  }

  /** Sends `reply` for one request; throws when the server rejects the call. */
  async reply(ref: PermissionRef, reply: Reply, message?: string): Promise<void> {
    const withMessage = message === undefined ? {} : { message }
    switch (ref.kind) {
      case 'permission.asked':
        return check(
          `reply to permission ${ref.permissionId}`,
          await this.client.permission.reply({ requestID: ref.permissionId, reply, ...withMessage }),
        )
      case 'permission.updated':
        // The legacy route takes no message.
        return check(
          `reply to permission ${ref.permissionId}`,
          await this.client.permission.respond({ sessionID: ref.sessionId, permissionID: ref.permissionId, response: reply }),
        )
      case 'permission.v2.asked':
        return check(
          `reply to permission ${ref.permissionId}`,
          await this.client.v2.session.permission.reply({
            sessionID: ref.sessionId,
            requestID: ref.permissionId,
            reply,
            ...withMessage,
          }),
        )
    }
  }

  /** Lists requests still waiting for a reply (`GET /permission`). */
  async pendingPermissions(): Promise<PendingPermission[]> {
    const result = await this.client.permission.list()
    check('list pending permissions', result)
    const list = (result.data ?? []) as unknown[]
    return list.filter(isPending)
  }

  /** Stops a session's current work (`POST /session/{id}/abort`). */
  async abort(sessionId: string): Promise<void> {
    check(`abort session ${sessionId}`, await this.client.session.abort({ sessionID: sessionId }))
  }

  /** Creates a session (`POST /session`) and returns its id. */
  async createSession(title?: string): Promise<string> {
    const result = await this.client.session.create(title === undefined ? {} : { title })
    check('create a session', result)
    const id = (result.data as { id?: unknown } | undefined)?.id
    if (typeof id !== 'string') throw new Error('failed to create a session: the response has no "id"')
    return id
  }

  /** Reads a session's info (`GET /session/{id}`), which carries OpenCode's own cost and token totals. */
  async sessionInfo(sessionId: string): Promise<Record<string, unknown>> {
    const result = await this.client.session.get({ sessionID: sessionId })
    check(`read session ${sessionId}`, result)
    return (result.data ?? {}) as Record<string, unknown>
  }

  /** Lists the sessions a session started (`GET /session/{id}/children`). */
  async childSessions(sessionId: string): Promise<Array<Record<string, unknown>>> {
    const result = await this.client.session.children({ sessionID: sessionId })
    check(`list children of session ${sessionId}`, result)
    return (result.data ?? []) as Array<Record<string, unknown>>
  }

  /** Lists a session's messages with their parts (`GET /session/{id}/message`). */
  async messages(sessionId: string): Promise<Array<{ info: Record<string, unknown>; parts: Array<Record<string, unknown>> }>> {
    const result = await this.client.session.messages({ sessionID: sessionId })
    check(`list messages of session ${sessionId}`, result)
    return (result.data ?? []) as Array<{ info: Record<string, unknown>; parts: Array<Record<string, unknown>> }>
  }

  /** Queues a text prompt on a session (`POST /session/{id}/prompt_async`). */
  async prompt(sessionId: string, text: string): Promise<void> {
    const result = await this.client.session.promptAsync({ sessionID: sessionId, parts: [{ type: 'text', text }] })
    check(`prompt session ${sessionId}`, result)
  }
}

interface ApiResult {
  error?: unknown
  response?: Response
}

function check(what: string, result: ApiResult): void {
  const status = result.response?.status
  if (result.error === undefined && (status === undefined || (status >= 200 && status < 300))) return
  const detail = result.error === undefined ? '' : `: ${JSON.stringify(result.error)}`
  throw new Error(`failed to ${what}: HTTP ${status ?? 'no response'}${detail}`)
}

function isPending(value: unknown): value is PendingPermission {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return typeof record.id === 'string' && typeof record.sessionID === 'string'
}
