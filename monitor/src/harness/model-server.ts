// A scripted OpenAI-compatible chat-completions server for end-to-end tests.
//
// OpenCode talks to it through `@ai-sdk/openai-compatible`. Each session picks
// a script by a `[script:NAME]` marker in its first user message. The turn to
// play is the number of assistant messages already in the request. So a retry
// of the same request replays the same turn instead of skipping ahead, and
// several tool results of one turn still count as one turn.
// Title requests (no tools offered) get a fixed short response and never use up
// a turn.

import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Token figures one turn reports in its final `usage` chunk. */
export interface TurnUsage {
  promptTokens: number
  completionTokens: number
  /** Sent as `prompt_tokens_details.cached_tokens`; part of `promptTokens`. */
  cachedTokens?: number
  /** Sent as `completion_tokens_details.reasoning_tokens`; part of `completionTokens`. */
  reasoningTokens?: number
}

export interface ToolCall {
  /** OpenCode tool name: `write`, `edit`, `bash`, `webfetch`, `read`, `task`, ... */
  name: string
  args: Record<string, unknown>
  /** Defaults to `call_<script>_<turn>_<index>`. */
  id?: string
}

/** One model response: text, tool calls, or text followed by tool calls. */
export interface Turn {
  text?: string
  toolCalls?: ToolCall[]
  /** Streamed as `reasoning_content` deltas before the text and tool calls. */
  reasoning?: string
  usage: TurnUsage
}

export interface Script {
  turns: Turn[]
  /** Played when the script has run out of turns; defaults to a short text reply. */
  fallback?: Turn
}

export type Scripts = Record<string, Script>

/** One request the server received and the usage it sent back, for assertions. */
export interface RecordedRequest {
  /** `title`, `turn`, `fallback` (script exhausted) or `unknown` (no script marker). */
  kind: 'title' | 'turn' | 'fallback' | 'unknown'
  script: string | null
  /** Index into `script.turns` that was played, or null. */
  turn: number | null
  body: ChatRequest
  usage: TurnUsage
}

export interface ChatMessage {
  role: string
  content?: unknown
  tool_calls?: unknown[]
  tool_call_id?: string
}

export interface ChatRequest {
  model?: string
  stream?: boolean
  messages?: ChatMessage[]
  tools?: unknown[]
  [key: string]: unknown
}

export interface ModelServer {
  url: string
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** Fixed usage of every title response, so tests can tell it apart. */
export const TITLE_USAGE: TurnUsage = { promptTokens: 11, completionTokens: 3 }
const TITLE_TEXT = 'Scripted session'
const DEFAULT_FALLBACK: Turn = { text: 'Script finished.', usage: { promptTokens: 1, completionTokens: 1 } }
const SCRIPT_MARKER = /\[script:([A-Za-z0-9_.-]+)\]/

export async function startModelServer(scripts: Scripts, options: { port?: number } = {}): Promise<ModelServer> {
  const requests: RecordedRequest[] = []
  const server = http.createServer((req, res) => {
    handle(req, res, scripts, requests).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: String(error) } }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  scripts: Scripts,
  requests: RecordedRequest[],
): Promise<void> {
  const path = (req.url ?? '').split('?')[0]
  if (req.method === 'GET' && path.endsWith('/models')) {
    const data = Object.keys(scripts).length ? [{ id: 'scripted-model', object: 'model' }] : []
    sendJson(res, 200, { object: 'list', data })
    return
  }
  if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
    sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}` } })
    return
  }
  const body = JSON.parse(await readBody(req)) as ChatRequest
  const recorded = chooseTurn(body, scripts)
  requests.push(recorded)
  const turn = turnFor(recorded, scripts)
  if (body.stream === false) sendJson(res, 200, completionObject(body, turn, recorded))
  else streamTurn(res, body, turn, recorded)
}

function chooseTurn(body: ChatRequest, scripts: Scripts): RecordedRequest {
  const messages = body.messages ?? []
  if (isTitleRequest(body)) return { kind: 'title', script: null, turn: null, body, usage: TITLE_USAGE }
  const name = scriptName(messages)
  const script = name === null ? undefined : scripts[name]
  if (name === null || script === undefined) {
    return { kind: 'unknown', script: name, turn: null, body, usage: DEFAULT_FALLBACK.usage }
  }
  const index = messages.filter((m) => m.role === 'assistant').length
  if (index < script.turns.length) {
    return { kind: 'turn', script: name, turn: index, body, usage: script.turns[index].usage }
  }
  return { kind: 'fallback', script: name, turn: null, body, usage: (script.fallback ?? DEFAULT_FALLBACK).usage }
}

function turnFor(recorded: RecordedRequest, scripts: Scripts): Turn {
  if (recorded.kind === 'title') return { text: TITLE_TEXT, usage: TITLE_USAGE }
  const script = recorded.script === null ? undefined : scripts[recorded.script]
  if (recorded.kind === 'turn' && script && recorded.turn !== null) return script.turns[recorded.turn]
  return script?.fallback ?? DEFAULT_FALLBACK
}

/**
 * Detects OpenCode's title request, which offers no tools, while every agent
 * turn of 1.18.33 offers some. The title system prompt is not used because its
 * wording changes between versions.
 */
export function isTitleRequest(body: ChatRequest): boolean {
  return !Array.isArray(body.tools) || body.tools.length === 0
}

/** Returns the script name from the first user message that has a marker. */
export function scriptName(messages: ChatMessage[]): string | null {
  for (const message of messages) {
    if (message.role !== 'user') continue
    const match = SCRIPT_MARKER.exec(textOf(message.content))
    if (match) return match[1]
  }
  return null
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : ''))
    .join('\n')
}

function usageObject(usage: TurnUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  }
}

function callId(recorded: RecordedRequest, index: number, call: ToolCall): string {
  return call.id ?? `call_${recorded.script ?? 'x'}_${recorded.turn ?? 'f'}_${index}`
}

function streamTurn(res: http.ServerResponse, body: ChatRequest, turn: Turn, recorded: RecordedRequest): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  const id = `chatcmpl-${Date.now().toString(36)}`
  const created = Math.floor(Date.now() / 1000)
  const model = body.model ?? 'scripted-model'
  const send = (delta: object, finishReason: string | null = null, extra: object = {}) => {
    const chunk = { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra }
    res.write(`data: ${JSON.stringify(chunk)}\n\n`)
  }
  send({ role: 'assistant', content: '' })
  if (turn.reasoning) send({ reasoning_content: turn.reasoning })
  if (turn.text) for (const piece of split(turn.text)) send({ content: piece })
  const calls = turn.toolCalls ?? []
  calls.forEach((call, index) => {
    const args = JSON.stringify(call.args)
    send({ tool_calls: [{ index, id: callId(recorded, index, call), type: 'function', function: { name: call.name, arguments: '' } }] })
    for (const piece of split(args)) send({ tool_calls: [{ index, function: { arguments: piece } }] })
  })
  send({}, calls.length > 0 ? 'tool_calls' : 'stop')
  const usageChunk = { id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageObject(turn.usage) }
  res.write(`data: ${JSON.stringify(usageChunk)}\n\n`)
  res.write('data: [DONE]\n\n')
  res.end()
}

function completionObject(body: ChatRequest, turn: Turn, recorded: RecordedRequest) {
  const calls = (turn.toolCalls ?? []).map((call, index) => ({
    id: callId(recorded, index, call),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args) },
  }))
  return {
    id: `chatcmpl-${Date.now().toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? 'scripted-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: turn.text ?? null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: calls.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: usageObject(turn.usage),
  }
}

/** Splits text into a few pieces so the client sees real streaming deltas. */
function split(text: string): string[] {
  const size = Math.max(8, Math.ceil(text.length / 3))
  const pieces: string[] = []
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size))
  return pieces
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
