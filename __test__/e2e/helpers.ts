// Shared setup for end-to-end tests: a scratch git worktree, the scripted
// model server and `opencode serve`, started together and stopped together.
// Ports: the harness owns 127.0.0.1:4500-4599; captures use 4520-4522, so
// tests take a base port from 4530 upwards and each file should pick its own.

import { EventRecorder, OpencodeClient, isIdleEvent, PERMISSION_ASK_TYPES, type OpencodeEvent } from '../../monitor/src/harness/driver.js'
import { startModelServer, type ModelServer, type Scripts } from '../../monitor/src/harness/model-server.js'
import { startOpencode, type OpencodeOptions, type OpencodeServer } from '../../monitor/src/harness/opencode-server.js'
import { createWorktree, type TempWorktree } from '../../monitor/src/harness/worktree.js'

export { EventRecorder, OpencodeClient, isIdleEvent, PERMISSION_ASK_TYPES }
export type { OpencodeEvent, Scripts }

export interface Stack {
  worktree: TempWorktree
  model: ModelServer
  opencode: OpencodeServer
  client: OpencodeClient
  events: EventRecorder
  /** Stops everything that was started; safe to call twice. */
  stop(): Promise<void>
}

export interface StackOptions {
  /** Model server port; opencode takes `basePort + 1`. */
  basePort: number
  permission?: OpencodeOptions['permission']
  cost?: OpencodeOptions['cost']
}

/** Starts worktree, model server, opencode and the `/event` recorder; on any failure stops what did start. */
export async function startStack(scripts: Scripts | ((worktree: string) => Scripts), options: StackOptions): Promise<Stack> {
  const worktree = createWorktree('mcg-e2e-')
  const stops: Array<() => Promise<void> | void> = [() => worktree.remove()]
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    for (const fn of stops) {
      try {
        await fn()
      } catch {
        // Keep stopping the rest.
      }
    }
  }
  try {
    const resolved = typeof scripts === 'function' ? scripts(worktree.dir) : scripts
    const model = await startModelServer(resolved, { port: options.basePort })
    stops.unshift(() => model.close())
    const opencode = await startOpencode({
      worktree: worktree.dir,
      modelServerUrl: model.url,
      port: options.basePort + 1,
      permission: options.permission,
      cost: options.cost,
    })
    stops.unshift(() => opencode.close())
    const events = await EventRecorder.connect(opencode.url)
    stops.unshift(() => events.close())
    return { worktree, model, opencode, client: new OpencodeClient(opencode.url), events, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Sends `text` to a new session, replies to every permission request with
 * `decide`, and resolves when the session is idle.
 */
export async function runSession(
  stack: Stack,
  text: string,
  decide: (event: OpencodeEvent) => 'once' | 'always' | 'reject' = () => 'once',
  timeoutMs = 60_000,
): Promise<{ sessionId: string; permissions: OpencodeEvent[] }> {
  const permissions: OpencodeEvent[] = []
  const replies: Promise<unknown>[] = []
  const from = stack.events.events.length
  const unsubscribe = stack.events.onEvent((event) => {
    if (!PERMISSION_ASK_TYPES.includes(event.type)) return
    permissions.push(event)
    replies.push(stack.client.reply(event.properties.id, decide(event)))
  }, from)
  try {
    const session = await stack.client.createSession()
    await stack.client.prompt(session.id, text)
    await stack.events.waitFor((e) => isIdleEvent(e, session.id), timeoutMs, from)
    await Promise.all(replies)
    return { sessionId: session.id, permissions }
  } finally {
    unsubscribe()
  }
}
