// Shared setup of the JavaScript benchmarks: the addon, a worktree on disk,
// the policies, the captured OpenCode streams and events built like them.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = join(here, '..')
const require = createRequire(import.meta.url)
export const addon = require(join(repoRoot, 'index.js'))

export const policy200Text = readFileSync(join(here, 'policy-200.json'), 'utf8')
export const policy200 = JSON.parse(policy200Text)
export const policySmallText = readFileSync(join(here, 'policy-small.yaml'), 'utf8')

export interface Workspace {
  root: string
  worktree: string
  home: string
  remove(): void
}

export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'mcg-jsbench-'))
  for (const dir of ['job/src/app', 'job/config', 'job/build', 'home']) mkdirSync(join(root, dir), { recursive: true })
  const worktree = realpathSync(join(root, 'job'))
  const home = realpathSync(join(root, 'home'))
  return { root, worktree, home, remove: () => rmSync(root, { recursive: true, force: true }) }
}

export interface Capture {
  name: string
  worktree: string
  lines: string[]
}

/** Reads fixtures/captures/<name>.sse, one `data: {...}` line per event,
 * for each scenario that has a <name>.json beside it. */
export function loadCaptures(): Capture[] {
  const folder = join(repoRoot, 'fixtures', 'captures')
  const files = new Set(readdirSync(folder))
  return [...files]
    .filter((file) => file.endsWith('.sse') && files.has(file.replace(/\.sse$/, '.json')))
    .sort()
    .map((file) => {
      const name = file.slice(0, -4)
      const meta = JSON.parse(readFileSync(join(folder, `${name}.json`), 'utf8'))
      const lines = readFileSync(join(folder, file), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('data:'))
      return { name, worktree: meta.worktree as string, lines }
    })
}

const ID_PATTERN = /"((?:msg|per|prt|call|evt)_[A-Za-z0-9_-]+)"/g
const SESSION_PATTERN = /"(ses_[A-Za-z0-9_-]+)"/g

/** Appends `_<round>` to every message, part, call, permission and event id,
 * and with `sessions` to session ids too, so a replayed stream looks new. */
export function varyIds(line: string, round: number, sessions = false): string {
  let varied = line.replace(ID_PATTERN, `"$1_${round}"`)
  if (sessions) varied = varied.replace(SESSION_PATTERN, `"$1_${round}"`)
  return varied
}

export const SESSION_ID = 'ses_bench'

export function permissionEvent(id: string, permission: string, patterns: string[], metadata: Record<string, unknown>) {
  return {
    type: 'permission.asked',
    properties: {
      id,
      sessionID: SESSION_ID,
      permission,
      patterns,
      metadata,
      always: ['*'],
      tool: { messageID: 'msg_bench', callID: `call_${id}` },
    },
  }
}

/** Builds an assistant `message.updated` snapshot. `completed` marks the
 * last snapshot of a message. */
export function messageEvent(messageId: string, sessionId: string, outputTokens: number, completed: boolean) {
  const time: Record<string, number> = { created: 1796414046819 }
  if (completed) time.completed = 1796414047900
  return {
    type: 'message.updated',
    properties: {
      sessionID: sessionId,
      info: {
        id: messageId,
        sessionID: sessionId,
        role: 'assistant',
        parentID: 'msg_user',
        modelID: 'scripted-model',
        providerID: 'scripted',
        mode: 'build',
        agent: 'build',
        cost: 0.000123 * outputTokens,
        tokens: { input: 1200, output: outputTokens, reasoning: 0, cache: { read: 300, write: 0 } },
        time,
      },
    },
  }
}

export const SHELL_COMMANDS = {
  bash_11: 'ls -la src/',
  bash_90: 'mkdir -p build && echo hi > build/x.txt; ls | wc -l && git status --short | head -n 20',
  bash_200:
    'cd src/app && npm run lint -- --fix && npm test -- --run 2>&1 | tail -n 40; ' +
    'git diff --stat > ../../build/diff.txt && grep -rn "TODO" . | wc -l; cat package.json | head -5',
} as const

/** Median and 99th percentile of a sample, in the sample's unit. */
export function quantiles(samples: Float64Array): { median: number; p99: number } {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { median: at(0.5), p99: at(0.99) }
}
