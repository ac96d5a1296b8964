// `opencode serve` whose HOME and data folders outlive the process, so a test
// can kill the server (SIGKILL, as in a crash) and start a new one on the same
// port, data folder and worktree. The harness's `startOpencode` removes its
// HOME on close, which is right for every other test.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { opencodeConfig, opencodeEnv, prepareHome, type OpencodeOptions } from '../../monitor/src/harness/opencode-server.ts'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const opencodeBin = path.join(repoRoot, 'node_modules/.bin/opencode')
/** A closed loopback port, so OpenCode's start-up plugin install fails at once. */
const OFFLINE_REGISTRY = 'http://127.0.0.1:4999/'

export interface RestartableOpencode {
  url: string
  /** The kept HOME; `XDG_DATA_HOME` (OpenCode's database) is inside it. */
  home: string
  /** Whether a server process is running now. */
  running(): boolean
  /** Kills the whole process group with SIGKILL and waits until it is gone. */
  crash(): Promise<void>
  /** Starts a new server on the same port with the same HOME and worktree. */
  restart(): Promise<void>
  /** Output of every process started so far. */
  log(): string
  /** Stops the server and removes the HOME. Safe to call twice. */
  close(): Promise<void>
}

export async function startRestartableOpencode(options: OpencodeOptions & { port: number }): Promise<RestartableOpencode> {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mcg-e2e-home-')))
  prepareHome(home, OFFLINE_REGISTRY)
  fs.writeFileSync(path.join(options.worktree, 'opencode.json'), JSON.stringify(opencodeConfig(options), null, 2))
  const url = `http://127.0.0.1:${options.port}`
  let child: ChildProcess | undefined
  let output = ''

  const start = async () => {
    const started = spawn(opencodeBin, ['serve', '--hostname', '127.0.0.1', '--port', String(options.port)], {
      cwd: options.worktree,
      env: opencodeEnv(home, { npm_config_registry: OFFLINE_REGISTRY, ...options.env }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = started
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    await waitForHttp(url, started)
  }

  const stop = async (signal: NodeJS.Signals) => {
    const current = child
    child = undefined
    if (current?.pid === undefined) return
    signalGroup(current.pid, signal)
    const deadline = Date.now() + 5000
    // The port is free only once every process of the group has exited.
    while (isGroupAlive(current.pid)) {
      if (Date.now() > deadline) signalGroup(current.pid, 'SIGKILL')
      await sleep(50)
    }
  }

  const closeAll = async () => {
    await stop('SIGKILL')
    fs.rmSync(home, { recursive: true, force: true })
  }
  process.once('exit', () => {
    if (child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
  })

  try {
    await start()
  } catch (error) {
    await closeAll()
    throw new Error(`opencode serve did not start: ${String(error)}\n${output}`)
  }
  return {
    url,
    home,
    running: () => child !== undefined,
    crash: () => stop('SIGKILL'),
    restart: async () => {
      if (child) throw new Error('opencode serve is still running; crash() it first')
      await start()
    },
    log: () => output,
    close: closeAll,
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`)
    try {
      // A server still starting can accept the connection and not answer yet.
      const res = await fetch(`${url}/config`, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return
    } catch {
      // Not accepting connections yet.
    }
    await sleep(100)
  }
  throw new Error(`${url} did not respond within 30 s`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
