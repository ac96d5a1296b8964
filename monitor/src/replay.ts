/**
 * Reads an event capture for replay: either the raw body of OpenCode's
 * `GET /event` (Server-Sent Events: `data:` lines, optional `event:`, `id:`,
 * `retry:` and `:` comment lines, blocks separated by blank lines) or JSON
 * lines (one event object per line). A malformed entry becomes a
 * `CaptureProblem` naming its line; the rest of the capture is still read.
 */

import { readFile } from 'node:fs/promises'

/** An OpenCode bus event: `{ type, properties }`. */
export interface OpencodeEvent {
  type: string
  properties?: Record<string, unknown>
  [key: string]: unknown
}

export interface CapturedEvent {
  /** 1-based line where the event's text starts in the capture. */
  line: number
  event: OpencodeEvent
}

export interface CaptureProblem {
  /** 1-based line of the malformed entry. */
  line: number
  message: string
}

export type CaptureFormat = 'sse' | 'jsonl'

export interface Capture {
  format: CaptureFormat
  events: CapturedEvent[]
  /** Entries that could not be read, in order. Each was skipped. */
  problems: CaptureProblem[]
}

const SSE_FIELD = /^(data|event|id|retry)(:|$)/

/** Reads and parses a capture file. Throws only when the file cannot be read. */
export async function readCapture(path: string): Promise<Capture> {
  const text = await readFile(path, 'utf8')
  return parseCapture(text)
}

/** Parses capture text, detecting the format from its first non-blank line. */
export function parseCapture(text: string): Capture {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  return detectFormat(lines) === 'sse' ? parseSse(lines) : parseJsonLines(lines)
}

/** Formats a problem as `FILE:LINE: message`, as the CLI prints it. */
export function formatProblem(source: string, problem: CaptureProblem): string {
  return `${source}:${problem.line}: ${problem.message}`
}

function detectFormat(lines: string[]): CaptureFormat {
  const first = lines.find((line) => line.trim() !== '')
  if (first === undefined) return 'jsonl'
  return SSE_FIELD.test(first) || first.startsWith(':') ? 'sse' : 'jsonl'
}

function parseJsonLines(lines: string[]): Capture {
  const capture: Capture = { format: 'jsonl', events: [], problems: [] }
  lines.forEach((text, index) => {
    if (text.trim() === '') return
    addEntry(capture, index + 1, text)
  })
  return capture
}

interface SseBlock {
  /** Line of the first `data:` field. */
  line: number
  data: Array<{ line: number; text: string }>
}

function parseSse(lines: string[]): Capture {
  const capture: Capture = { format: 'sse', events: [], problems: [] }
  let block: SseBlock | undefined
  const flush = (): void => {
    if (block) addSseBlock(capture, block)
    block = undefined
  }
  lines.forEach((text, index) => {
    const line = index + 1
    if (text === '') return flush()
    if (text.startsWith(':')) return
    const match = SSE_FIELD.exec(text)
    if (!match) {
      capture.problems.push({ line, message: `not a server-sent event field: ${quote(text)}` })
      return
    }
    if (match[1] !== 'data') return
    // The SSE specification strips one space after the colon.
    const value = text.slice(5).replace(/^ /, '')
    block ??= { line, data: [] }
    block.data.push({ line, text: value })
  })
  flush()
  return capture
}

function addSseBlock(capture: Capture, block: SseBlock): void {
  const joined = block.data.map((entry) => entry.text).join('\n')
  if (tryParse(joined) !== undefined || block.data.length === 1) {
    addEntry(capture, block.line, joined)
    return
  }
  // Captures written without blank separators put several events in one
  // block; read each `data:` line as its own event when the join is not JSON.
  for (const entry of block.data) addEntry(capture, entry.line, entry.text)
}

function addEntry(capture: Capture, line: number, text: string): void {
  const result = toEvent(text)
  if (typeof result === 'string') capture.problems.push({ line, message: result })
  else capture.events.push({ line, event: result })
}

/** Returns the event, or a message saying why the text is not one. */
function toEvent(text: string): OpencodeEvent | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return `invalid JSON (${reason}): ${quote(text)}`
  }
  // `GET /global/event` wraps each bus event as `{ directory, payload }`.
  if (isRecord(value) && isRecord(value.payload) && !('type' in value)) value = value.payload
  if (!isRecord(value) || typeof value.type !== 'string') {
    return `expected an event object with a string "type": ${quote(text)}`
  }
  return value as OpencodeEvent
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function quote(text: string): string {
  const limit = 80
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}...` : text)
}
