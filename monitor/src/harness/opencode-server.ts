// Starts `opencode serve` against the scripted model server, isolated in a
// temporary HOME and kept off the network, and stops its whole process tree.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** USD per million tokens, as OpenCode's model `cost` block takes them. */
export interface ModelCost {
  input: number
  output: number
  cache_read?: number
  cache_write?: number
}

export type PermissionSetting = 'ask' | 'allow' | 'deny'

export interface OpencodeOptions {
  worktree: string
  /** Base URL of the model server, without `/v1`. */
  modelServerUrl: string
  /** Replaces the default permission block (every governed tool on `ask`). */
  permission?: Record<string, PermissionSetting | Record<string, PermissionSetting>>
  /** Defaults to an ephemeral port; the harness range is 4500-4599. */
  port?: number
  /** Defaults to DEFAULT_COST; null leaves the model without a `cost` block. */
  cost?: ModelCost | null
  /** Extra environment for the server process. */
  env?: Record<string, string>
  /** Top-level `opencode.json` keys merged over the generated ones, e.g. `mcp`. */
  extraConfig?: Record<string, unknown>
}

export interface OpencodeServer {
  url: string
  port: number
  /** The temporary HOME; removed by close(). */
  home: string
  /** Everything the process wrote to stdout and stderr so far. */
  log(): string
  close(): Promise<void>
}

export const PROVIDER_ID = 'scripted'
export const MODEL_ID = 'scripted-model'
export const DEFAULT_COST: ModelCost = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 }
export const DEFAULT_PERMISSION = {
  edit: 'ask',
  bash: 'ask',
  webfetch: 'ask',
  external_directory: 'ask',
} as const

/** A port in the harness range that nothing listens on. */
const OFFLINE_REGISTRY = 'http://127.0.0.1:4599/'
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const opencodeBin = path.join(repoRoot, 'node_modules/.bin/opencode')
/** Running servers and their temporary HOME folders. */
const live = new Map<ChildProcess, string>()

// The servers run in their own process groups, so neither a normal exit nor
// Ctrl-C of the test runner reaches them. Kill them first, then let the signal
// take its default course.
process.once('exit', killAll)
function killAll(): void {
  for (const [child, home] of live) {
    killTree(child, 'SIGKILL')
    fs.rmSync(home, { recursive: true, force: true })
  }
  live.clear()
}

let signalsHooked = false
function hookSignals(): void {
  if (signalsHooked) return
  signalsHooked = true
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll()
      process.kill(process.pid, signal)
    })
  }
}

export function opencodeConfig(options: OpencodeOptions): object {
  return {
    $schema: 'https://opencode.ai/config.json',
    model: `${PROVIDER_ID}/${MODEL_ID}`,
    small_model: `${PROVIDER_ID}/${MODEL_ID}`,
    enabled_providers: [PROVIDER_ID],
    share: 'disabled',
    autoupdate: false,
    lsp: false,
    formatter: false,
    provider: {
      [PROVIDER_ID]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Scripted',
        options: { baseURL: `${options.modelServerUrl}/v1`, apiKey: 'scripted' },
        models: {
          [MODEL_ID]: {
            name: 'Scripted model',
            tool_call: true,
            reasoning: false,
            ...(options.cost === null ? {} : { cost: options.cost ?? DEFAULT_COST }),
            limit: { context: 128000, output: 8192 },
          },
        },
      },
    },
    permission: options.permission ?? DEFAULT_PERMISSION,
    ...options.extraConfig,
  }
}

/**
 * Readies a temporary HOME for OpenCode: an offline `.npmrc`, and a `tmp`
 * folder for `TMPDIR`. OpenCode's binary unpacks a 5.5 MB native library into
 * the temp folder on each start and never removes it. Inside HOME, it goes
 * when HOME does.
 */
export function prepareHome(home: string, registry = OFFLINE_REGISTRY): void {
  fs.writeFileSync(path.join(home, '.npmrc'), `registry=${registry}\noffline=true\n`)
  fs.mkdirSync(path.join(home, 'tmp'), { recursive: true })
}

/** The environment for OpenCode with a HOME that `prepareHome` readied. */
export function opencodeEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: home,
    TMPDIR: path.join(home, 'tmp'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_EXTERNAL_SKILLS: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    npm_config_registry: OFFLINE_REGISTRY,
    npm_config_offline: 'true',
    ...extra,
  }
}

export async function startOpencode(options: OpencodeOptions): Promise<OpencodeServer> {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mcg-home-')))
  // OpenCode 1.18.33 runs a background `npm install @opencode-ai/plugin` in
  // every config folder at start-up. Only user plugins need it, and there are
  // none here. So npm points at a closed loopback port and stays offline, the
  // install fails fast, and OpenCode logs a warning and carries on.
  prepareHome(home)
  fs.writeFileSync(path.join(options.worktree, 'opencode.json'), JSON.stringify(opencodeConfig(options), null, 2))
  const port = options.port ?? 0
  // A server still on the port would respond to the readiness probe instead of ours.
  if (port !== 0 && (await isPortOpen(port))) {
    fs.rmSync(home, { recursive: true, force: true })
    throw new Error(`port ${port} on 127.0.0.1 is already in use; stop the process on it or pick another port`)
  }
  const child = spawn(opencodeBin, ['serve', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: options.worktree,
    env: opencodeEnv(home, options.env),
    detached: true, // own process group, so close() reaches every descendant
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.set(child, home)
  hookSignals()
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  // The server forks helpers into its process group; the port is free only
  // once the whole group is gone, not when the leader exits.
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) killTree(child, 'SIGTERM')
    const timer = setTimeout(() => killTree(child, 'SIGKILL'), 3000)
    await exited
    await waitForGroupExit(child, 5000)
    clearTimeout(timer)
    live.delete(child)
    fs.rmSync(home, { recursive: true, force: true })
  }

  try {
    const actualPort = await waitForListening(child, () => output, port)
    const url = `http://127.0.0.1:${actualPort}`
    await waitForHttp(url, child)
    return { url, port: actualPort, home, log: () => output, close }
  } catch (error) {
    await close()
    throw new Error(`opencode serve did not start: ${String(error)}\n${output}`)
  }
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // The group is already gone.
  }
}

async function waitForGroupExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.pid === undefined) return
  const deadline = Date.now() + timeoutMs
  while (isGroupAlive(child.pid)) {
    if (Date.now() > deadline) {
      killTree(child, 'SIGKILL')
      return
    }
    killTree(child, 'SIGTERM')
    await sleep(50)
  }
}

function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

/** Resolves the port from the "listening on" line, which matters when port 0 was asked for. */
async function waitForListening(child: ChildProcess, output: () => string, asked: number): Promise<number> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`)
    const match = /listening on https?:\/\/[^\s:]+:(\d+)/.exec(output())
    if (match) return Number(match[1])
    await sleep(100)
  }
  if (asked !== 0) return asked
  throw new Error('no "listening on" line within 30 s')
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`)
    try {
      const res = await fetch(`${url}/config`)
      if (res.ok) return
    } catch {
      // Not accepting connections yet.
    }
    await sleep(100)
  }
  throw new Error(`${url} did not respond within 30 s`)
}

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
