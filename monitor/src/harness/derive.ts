// Writes hand-derived fixtures for the permission event shapes OpenCode
// 1.18.33 never sends on `/event`: `permission.v2.asked` (newer servers) and
// the legacy `permission.updated` (servers before `permission.asked`).
// Each is built from a real `permission.asked` capture, so ids, paths and
// commands match the captured session. Only the envelope is derived. Its
// shape comes from the public OpenCode source and the `@opencode-ai/sdk` types.
//
//   npx tsx monitor/src/harness/derive.ts
//
// Output: fixtures/captures/derived/{permission-v2-asked,permission-updated}.sse
// and a `.json` sidecar each listing the source capture of every event.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { OpencodeEvent } from './driver.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const capturesDir = path.join(repoRoot, 'fixtures/captures')
/** Captures whose permission requests are re-shaped; together they cover edit, external_directory, bash and webfetch. */
const SOURCES = ['edit-inside', 'write-outside', 'bash-compound', 'npm-install', 'webfetch', 'cd-parent']

export function parseSse(raw: string): OpencodeEvent[] {
  const events: OpencodeEvent[] = []
  for (const block of raw.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n')
    if (data) events.push(JSON.parse(data) as OpencodeEvent)
  }
  return events
}

/** `permission.asked` → `permission.v2.asked` as `/event` carries it (SDK v2 `EventPermissionV2Asked`). */
export function toV2(asked: OpencodeEvent): OpencodeEvent {
  const p = asked.properties
  return {
    id: asked.id,
    type: 'permission.v2.asked',
    properties: {
      id: p.id,
      sessionID: p.sessionID,
      action: p.permission,
      resources: p.patterns,
      save: p.always,
      metadata: p.metadata,
      ...(p.tool ? { source: { type: 'tool', messageID: p.tool.messageID, callID: p.tool.callID } } : {}),
    },
  }
}

export function toV2Replied(replied: OpencodeEvent): OpencodeEvent {
  return { id: replied.id, type: 'permission.v2.replied', properties: { ...replied.properties } }
}

/**
 * `permission.asked` → legacy `permission.updated` (SDK v1 `EventPermissionUpdated`):
 * `type` instead of `permission`, `pattern` instead of `patterns`, flat
 * `messageID`/`callID`, a `title`, `time.created`, and edit metadata keyed
 * `filePath` (camelCase) rather than `filepath`. Legacy bash requests carried
 * the `head sub *` prefixes as `pattern` and repeated them in `metadata.patterns`.
 */
export function toLegacy(asked: OpencodeEvent, created: number): OpencodeEvent {
  const p = asked.properties
  const meta = (p.metadata ?? {}) as Record<string, unknown>
  const base = { id: p.id, sessionID: p.sessionID, messageID: p.tool?.messageID, callID: p.tool?.callID, time: { created } }
  switch (p.permission) {
    case 'edit':
      return legacy({ ...base, type: 'edit', title: `Edit this file: ${meta.filepath}`, metadata: { filePath: meta.filepath, diff: meta.diff } })
    case 'bash':
      return legacy({ ...base, type: 'bash', pattern: p.always, title: meta.command, metadata: { command: meta.command, patterns: p.always } })
    case 'webfetch':
      return legacy({ ...base, type: 'webfetch', title: `Fetch content from: ${meta.url}`, metadata: { url: meta.url, format: meta.format } })
    default:
      return legacy({ ...base, type: p.permission, pattern: p.patterns, title: `${p.permission}: ${(p.patterns ?? []).join(', ')}`, metadata: meta })
  }
}

function legacy(properties: Record<string, unknown>): OpencodeEvent {
  return { type: 'permission.updated', properties }
}

/** Legacy reply event: `permissionID` and `response` instead of `requestID` and `reply`. */
export function toLegacyReplied(replied: OpencodeEvent): OpencodeEvent {
  const p = replied.properties
  return { type: 'permission.replied', properties: { sessionID: p.sessionID, permissionID: p.requestID, response: p.reply } }
}

function sse(events: OpencodeEvent[]): string {
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')
}

export function derive(): void {
  const v2: OpencodeEvent[] = []
  const legacyEvents: OpencodeEvent[] = []
  const sources: Array<{ capture: string; permissionId: string; permission: string }> = []
  for (const name of SOURCES) {
    const events = parseSse(fs.readFileSync(path.join(capturesDir, `${name}.sse`), 'utf8'))
    events.forEach((event, index) => {
      if (event.type === 'permission.asked') {
        v2.push(toV2(event))
        legacyEvents.push(toLegacy(event, 1796400000000 + index))
        sources.push({ capture: name, permissionId: event.properties.id, permission: event.properties.permission })
      } else if (event.type === 'permission.replied') {
        v2.push(toV2Replied(event))
        legacyEvents.push(toLegacyReplied(event))
      }
    })
  }
  const outDir = path.join(capturesDir, 'derived')
  fs.mkdirSync(outDir, { recursive: true })
  const note = {
    derived: true,
    capturedFrom: 'opencode-ai 1.18.33 permission.asked / permission.replied events in the listed captures',
    shapeFrom: '@opencode-ai/sdk 1.19.3 types (dist/v2/gen/types.gen.d.ts EventPermissionV2Asked; dist/gen/types.gen.d.ts EventPermissionUpdated) and the public OpenCode tool sources',
    sources,
  }
  fs.writeFileSync(path.join(outDir, 'permission-v2-asked.sse'), sse(v2))
  fs.writeFileSync(path.join(outDir, 'permission-v2-asked.json'), `${JSON.stringify({ ...note, eventTypes: ['permission.v2.asked', 'permission.v2.replied'] }, null, 2)}\n`)
  fs.writeFileSync(path.join(outDir, 'permission-updated.sse'), sse(legacyEvents))
  fs.writeFileSync(path.join(outDir, 'permission-updated.json'), `${JSON.stringify({ ...note, eventTypes: ['permission.updated', 'permission.replied (legacy)'] }, null, 2)}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) derive()
