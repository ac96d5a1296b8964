// Records a real OpenCode event stream for one scripted scenario and writes
// `fixtures/captures/<name>.sse` (raw `/event` text from connect to close)
// and `<name>.json` (the facts a test can assert against).
//
//   npx tsx monitor/src/harness/capture.ts <scenario|all>... [--out DIR] [--all-streams]
//
// --all-streams also records `/api/event` (experimental v2 envelope) and
// `/global/event` (every directory) as `<name>.api-event.sse` and
// `<name>.global-event.sse`.

import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { EventRecorder, OpencodeClient, PERMISSION_ASK_TYPES, isIdleEvent, type OpencodeEvent } from './driver.js'
import { startModelServer, type RecordedRequest, type TurnUsage } from './model-server.js'
import { DEFAULT_COST, startOpencode, type OpencodeOptions } from './opencode-server.js'
import { SCENARIOS, findScenario, type Reply, type Scenario } from './scenarios.js'
import { createWorktree } from './worktree.js'

/** Fixed ports inside the harness range (4500-4599) so captures are comparable. */
export const CAPTURE_PORTS = { opencode: 4520, model: 4521, web: 4522 }
const OPENCODE_VERSION = '1.18.33'
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export interface PermissionRecord {
  eventType: string
  id: string
  sessionID: string
  permission: string
  patterns: unknown
  always: unknown
  metadata: unknown
  tool: unknown
  reply: Reply
  message?: string
}

export interface CaptureResult {
  raw: string
  events: OpencodeEvent[]
  /** Raw text of each extra stream asked for, by path. */
  extraRaw: Record<string, string>
  facts: Record<string, unknown>
}

export interface RunOptions {
  ports?: typeof CAPTURE_PORTS
  /** Streams recorded besides `/event`, e.g. `/api/event`, `/global/event`. */
  extraStreams?: string[]
  /** Extra environment for `opencode serve`. */
  env?: Record<string, string>
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<CaptureResult> {
  const ports = options.ports ?? CAPTURE_PORTS
  const worktree = createWorktree(`mcg-${scenario.name}-`)
  const web = await startWebServer(ports.web)
  const webUrl = `http://127.0.0.1:${ports.web}`
  const scripts = scenario.scripts({ worktree: worktree.dir, webUrl })
  const model = await startModelServer(scripts, { port: ports.model })
  const cleanups: Array<() => Promise<void> | void> = [() => worktree.remove(), () => closeServer(web), () => model.close()]
  try {
    const opencode = await startOpencode({
      worktree: worktree.dir,
      modelServerUrl: model.url,
      port: ports.opencode,
      env: options.env,
      permission: scenario.permission as OpencodeOptions['permission'],
      extraConfig: scenario.config?.({ worktree: worktree.dir, webUrl }),
    })
    cleanups.unshift(() => opencode.close())
    const client = new OpencodeClient(opencode.url)
    const recorder = await EventRecorder.connect(opencode.url)
    cleanups.unshift(() => recorder.close())
    const extras: Record<string, EventRecorder> = {}
    for (const stream of options.extraStreams ?? []) {
      const extra = await EventRecorder.connect(opencode.url, stream)
      extras[stream] = extra
      cleanups.unshift(() => extra.close())
    }

    const permissions: PermissionRecord[] = []
    const replying: Promise<unknown>[] = []
    recorder.onEvent((event) => {
      if (!PERMISSION_ASK_TYPES.includes(event.type)) return
      const p = event.properties
      const name = String(p.permission ?? p.type ?? '')
      const reply = scenario.reply(name, permissions.length)
      const message = reply === 'reject' ? scenario.rejectMessage : undefined
      permissions.push({
        eventType: event.type,
        id: p.id,
        sessionID: p.sessionID,
        permission: name,
        patterns: p.patterns ?? p.pattern ?? null,
        always: p.always ?? null,
        metadata: p.metadata ?? null,
        tool: p.tool ?? null,
        reply,
        ...(message ? { message } : {}),
      })
      replying.push(client.reply(p.id, reply, message))
    })

    const session = await client.createSession()
    const from = recorder.events.length
    await client.prompt(session.id, scenario.prompt)
    await recorder.waitFor((e) => isIdleEvent(e, session.id), 90_000, from)
    await Promise.all(replying)
    // Late events (summary diffs, session.updated) follow the idle status.
    await new Promise((resolve) => setTimeout(resolve, 2000))

    const sessions = await sessionTree(client, session.id)
    const totals = []
    for (const s of sessions) totals.push(await sessionTotals(client, s.id))
    await recorder.close()
    const extraRaw: Record<string, string> = {}
    for (const [stream, extra] of Object.entries(extras)) {
      await extra.close()
      extraRaw[stream] = extra.raw
    }

    const facts = {
      scenario: scenario.name,
      summary: scenario.summary,
      derived: false,
      opencodeVersion: OPENCODE_VERSION,
      env: options.env ?? {},
      capturedAt: new Date().toISOString(),
      worktree: worktree.dir,
      prompt: scenario.prompt,
      modelCostPerMillion: DEFAULT_COST,
      rootSessionId: session.id,
      sessions: sessions.map((s) => ({ id: s.id, parentID: s.parentID ?? null, title: s.title })),
      permissions,
      replied: recorder.events
        .filter((e) => e.type === 'permission.replied')
        .map((e) => e.properties),
      eventTypeCounts: countTypes(recorder.events),
      modelRequests: model.requests.map(summariseRequest),
      scriptedUsage: scriptedUsage(model.requests),
      serverTotals: totals,
      files: fileFacts(worktree.dir, worktree.parent, scripts),
    }
    return { raw: recorder.raw, events: recorder.events, extraRaw, facts }
  } finally {
    for (const cleanup of cleanups) await cleanup()
  }
}

async function sessionTree(client: OpencodeClient, rootId: string): Promise<any[]> {
  const out = [await client.session(rootId)]
  for (let i = 0; i < out.length; i++) {
    for (const child of await client.children(out[i].id)) out.push(child)
  }
  return out
}

/** Collects what `GET /session/{id}/message` reports, per assistant message and summed. */
async function sessionTotals(client: OpencodeClient, sessionId: string) {
  const messages = await client.messages(sessionId)
  const assistant = messages.filter((m) => m.info.role === 'assistant')
  const perMessage = assistant.map((m) => ({
    id: m.info.id,
    cost: m.info.cost,
    tokens: m.info.tokens,
    finish: m.info.finish ?? null,
    stepFinish: m.parts.filter((p) => p.type === 'step-finish').map((p) => ({ id: p.id, reason: p.reason, cost: p.cost, tokens: p.tokens })),
  }))
  const sum = { cost: 0, input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }
  for (const m of perMessage) {
    sum.cost += m.cost ?? 0
    sum.input += m.tokens?.input ?? 0
    sum.output += m.tokens?.output ?? 0
    sum.reasoning += m.tokens?.reasoning ?? 0
    sum.cacheRead += m.tokens?.cache?.read ?? 0
    sum.cacheWrite += m.tokens?.cache?.write ?? 0
  }
  const info = await client.session(sessionId)
  return {
    sessionId,
    assistantMessages: perMessage,
    sum: { ...sum, cost: Number(sum.cost.toFixed(12)) },
    sessionInfo: { cost: info.cost ?? null, tokens: info.tokens ?? null },
  }
}

function summariseRequest(r: RecordedRequest) {
  return {
    kind: r.kind,
    script: r.script,
    turn: r.turn,
    usage: r.usage,
    tools: Array.isArray(r.body.tools) ? r.body.tools.length : 0,
    roles: (r.body.messages ?? []).map((m) => m.role),
  }
}

/** Usage the model server reported, summed per script (title requests apart). */
function scriptedUsage(requests: RecordedRequest[]) {
  const totals: Record<string, Required<TurnUsage> & { requests: number }> = {}
  for (const r of requests) {
    const key = r.kind === 'title' ? '(title)' : (r.script ?? '(unknown)')
    const t = (totals[key] ??= { promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, requests: 0 })
    t.promptTokens += r.usage.promptTokens
    t.completionTokens += r.usage.completionTokens
    t.cachedTokens += r.usage.cachedTokens ?? 0
    t.reasoningTokens += r.usage.reasoningTokens ?? 0
    t.requests += 1
  }
  return totals
}

/** Checks which files the scripts tried to write exist afterwards. */
function fileFacts(worktree: string, parent: string, scripts: Record<string, { turns: Array<{ toolCalls?: Array<{ name: string; args: any }> }> }>) {
  const out: Record<string, boolean> = {}
  for (const script of Object.values(scripts)) {
    for (const turn of script.turns) {
      for (const call of turn.toolCalls ?? []) {
        if (call.name !== 'write' || typeof call.args.filePath !== 'string') continue
        const abs = path.resolve(worktree, call.args.filePath)
        out[path.relative(parent, abs)] = fs.existsSync(abs)
      }
    }
  }
  out['project/build/x.txt'] = fs.existsSync(path.join(worktree, 'build/x.txt'))
  out['project/node_modules'] = fs.existsSync(path.join(worktree, 'node_modules'))
  return out
}

function countTypes(events: OpencodeEvent[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1
  return counts
}

function startWebServer(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(`hello from the loopback page at ${req.url}\n`)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

const EXTRA_STREAMS: Record<string, string> = { '/api/event': 'api-event', '/global/event': 'global-event' }

export async function capture(name: string, outDir: string, allStreams = false): Promise<void> {
  const scenario = findScenario(name)
  const result = await runScenario(scenario, { extraStreams: allStreams ? Object.keys(EXTRA_STREAMS) : [] })
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, `${name}.sse`), result.raw)
  for (const [stream, raw] of Object.entries(result.extraRaw)) {
    fs.writeFileSync(path.join(outDir, `${name}.${EXTRA_STREAMS[stream]}.sse`), raw)
  }
  fs.writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(result.facts, null, 2)}\n`)
}

async function main(argv: string[]): Promise<void> {
  const outIndex = argv.indexOf('--out')
  const outDir = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : path.join(repoRoot, 'fixtures/captures')
  const allStreams = argv.includes('--all-streams')
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out')
  if (names.length === 0) {
    process.stderr.write(`usage: capture.ts <scenario|all>...; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n`)
    process.exitCode = 2
    return
  }
  const list = names.includes('all') ? SCENARIOS.map((s) => s.name) : names
  for (const name of list) {
    process.stderr.write(`capturing ${name}\n`)
    await capture(name, outDir, allStreams)
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`capture failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  })
}
