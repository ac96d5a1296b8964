/**
 * `demo`: one governed job end to end on loopback only. It starts the
 * scripted model server, a loopback web server and a real `opencode serve`
 * in a temporary git worktree, governs it with the built-in default policy,
 * replies to held requests as a user would, prints decisions and costs, and
 * stops everything it started.
 */

import { existsSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { loadAddon, type Reply } from './addon.ts'
import { parseCommand, UsageError, type OptionSpec } from './cli-args.ts'
import type { Output } from './commands.ts'
import { costLine, decisionLine, spendTable, table, usd } from './format.ts'
import type { Logger } from './log.ts'
import { Monitor, type HeldPermission } from './monitor.ts'
import type { OpencodeEvent } from './replay.ts'
import { OpencodeServer } from './server.ts'
import { spendRows, summarize } from './spend.ts'
import type { Scripts } from './harness/model-server.ts'

const DEMO_OPTIONS: OptionSpec = {
  'port-base': { type: 'string' },
  timeout: { type: 'string' },
}

/** Ports used by default: model server, `opencode serve`, web server. */
const DEFAULT_PORT_BASE = 4710
const DEFAULT_TIMEOUT_SECONDS = 120
const JOB_ID = 'demo'
const SCRIPT = 'governance-demo'

/** Returns the demo agent's model script: edit inside, write outside, install, fetch, then finish. */
export function demoScripts(worktree: string, webUrl: string): Scripts {
  return {
    [SCRIPT]: {
      turns: [
        {
          toolCalls: [{ name: 'write', args: { filePath: `${worktree}/notes/todo.md`, content: '- try the governed agent\n' } }],
          usage: { promptTokens: 1200, completionTokens: 60, cachedTokens: 200 },
        },
        {
          toolCalls: [{ name: 'write', args: { filePath: '../outside.txt', content: 'should never be written\n' } }],
          usage: { promptTokens: 1300, completionTokens: 40, cachedTokens: 1000 },
        },
        {
          toolCalls: [{ name: 'bash', args: { command: 'npm install left-pad', description: 'Install left-pad' } }],
          usage: { promptTokens: 1400, completionTokens: 30, cachedTokens: 1200 },
        },
        {
          toolCalls: [{ name: 'webfetch', args: { url: `${webUrl}/status.txt`, format: 'text' } }],
          usage: { promptTokens: 1500, completionTokens: 25, cachedTokens: 1300 },
        },
        { text: 'Wrote notes/todo.md; the other steps were declined or done.', usage: { promptTokens: 1600, completionTokens: 20, cachedTokens: 1400 } },
      ],
    },
  }
}

/** Returns the simulated user's reply to a held request: it allows fetches and declines the rest. */
export function userAnswer(held: HeldPermission): { reply: Reply; message?: string } {
  if (held.category === 'network_access') return { reply: 'once' }
  if (held.category === 'install_packages') return { reply: 'reject', message: 'the user declined the package install' }
  return { reply: 'reject', message: `the user declined this ${held.permission} request` }
}

export async function demoCommand(args: string[], out: Output, logger: Logger): Promise<number> {
  const parsed = parseCommand('demo', args, DEMO_OPTIONS, 0)
  const portBase = integerOption('port-base', parsed.values['port-base'], DEFAULT_PORT_BASE, 1024, 65533)
  const timeoutMs = integerOption('timeout', parsed.values.timeout, DEFAULT_TIMEOUT_SECONDS, 10, 3600) * 1000
  const { Governor } = loadAddon()
  const { startModelServer } = await import('./harness/model-server.ts')
  const { startOpencode } = await import('./harness/opencode-server.ts')
  const { createWorktree } = await import('./harness/worktree.ts')

  const cleanups: Array<() => unknown> = []
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.reverse()) {
      try {
        await step()
      } catch (error) {
        logger.error('demo cleanup failed', { error: error instanceof Error ? error.message : String(error) })
      }
    }
  }
  try {
    const worktree = createWorktree('mcg-demo-')
    cleanups.push(() => worktree.remove())
    const web = await startWebServer(portBase + 2)
    cleanups.push(() => new Promise((resolve) => web.close(resolve)))
    const webUrl = `http://127.0.0.1:${portBase + 2}`
    const model = await startModelServer(demoScripts(worktree.dir, webUrl), { port: portBase })
    cleanups.push(() => model.close())
    out(`starting opencode serve in ${worktree.dir}`)
    const opencode = await startOpencode({ worktree: worktree.dir, modelServerUrl: model.url, port: portBase + 1 })
    cleanups.push(() => opencode.close())

    const governor = new Governor()
    const monitor = new Monitor({ governor, logger })
    cleanups.push(() => monitor.stop())
    monitor.addJob({ jobId: JOB_ID, url: opencode.url, worktree: worktree.dir })
    // One row per request: permission, category, target, decision, rule, final reply.
    const rows = new Map<string, string[]>()
    monitor.on('decision', ({ jobId, outcome, reply }) => {
      out(decisionLine(jobId, outcome, reply))
      const target = outcome.actions[0]?.target ?? ''
      rows.set(outcome.permissionId, [outcome.permission, outcome.category, target, outcome.decision, outcome.rule, reply ?? 'held'])
    })
    monitor.on('error', () => {
      // Logged by the monitor already.
    })
    monitor.on('held', (held) => {
      const { reply, message } = userAnswer(held)
      monitor.answer(held.permissionId, reply, message).then(
        () => {
          out(`[user] ${reply} ${held.permission} (${held.category ?? 'unclassified'})${message ? `: ${message}` : ''}`)
          const row = rows.get(held.permissionId)
          if (row) row[5] = `user: ${reply}`
        },
        (error: unknown) => logger.error('demo reply to a held request failed', { permissionId: held.permissionId, error: String(error) }),
      )
    })

    const connected = new Promise<void>((resolve) => monitor.once('connected', () => resolve()))
    monitor.start()
    await withTimeout(connected, 30_000, 'the monitor did not connect to opencode serve')
    const server = new OpencodeServer(opencode.url)
    const sessionId = await server.createSession('governance demo')
    const idle = waitForIdle(monitor, sessionId)
    await server.prompt(sessionId, `[script:${SCRIPT}] Note a todo, write ../outside.txt, install left-pad, fetch ${webUrl}/status.txt.`)
    await withTimeout(idle, timeoutMs, `the agent did not finish within ${timeoutMs / 1000} s`)
    await monitor.settle()

    out('')
    out('decisions:')
    out(table(['permission', 'category', 'target', 'decision', 'rule', 'reply'], [...rows.values()]))
    out('')
    out('files:')
    out(`  inside  ${join(worktree.dir, 'notes/todo.md')}: ${existsSync(join(worktree.dir, 'notes/todo.md')) ? 'written' : 'missing'}`)
    out(`  outside ${join(worktree.parent, 'outside.txt')}: ${existsSync(join(worktree.parent, 'outside.txt')) ? 'WRITTEN' : 'not written'}`)
    out(`  ${join(worktree.dir, 'node_modules')}: ${existsSync(join(worktree.dir, 'node_modules')) ? 'INSTALLED' : 'not installed'}`)
    out('')
    const report = governor.report()
    const summary = summarize(report)
    out('spend (monitor):')
    out(spendTable(spendRows(report), summary))
    out(costLine(summary))
    const info = await server.sessionInfo(sessionId)
    const tokens = info.tokens as { input?: number; output?: number; cache?: { read?: number } } | undefined
    out(
      `opencode's own totals for the session: cost ${usd(typeof info.cost === 'number' ? info.cost : 0)}, ` +
        `tokens in ${tokens?.input ?? 0} out ${tokens?.output ?? 0} cache read ${tokens?.cache?.read ?? 0}`,
    )
    return 0
  } finally {
    await cleanUp()
  }
}

/** Resolves when the session reports idle (`session.status` idle, or the older `session.idle`). */
export function waitForIdle(monitor: Monitor, sessionId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = ({ event }: { event: OpencodeEvent }): void => {
      if (!isIdle(event, sessionId)) return
      monitor.off('event', listener)
      resolve()
    }
    monitor.on('event', listener)
  })
}

export function isIdle(event: OpencodeEvent, sessionId: string): boolean {
  const props = event.properties ?? {}
  if (props.sessionID !== sessionId) return false
  if (event.type === 'session.idle') return true
  const status = props.status as { type?: unknown } | undefined
  return event.type === 'session.status' && status?.type === 'idle'
}

function startWebServer(port: number): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end(`demo page for ${request.url ?? '/'}\n`)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function integerOption(name: string, value: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (typeof value !== 'string' || !Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`invalid --${name} "${String(value)}"`, `give a whole number from ${min} to ${max}`)
  }
  return number
}
