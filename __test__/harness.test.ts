import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, TITLE_USAGE, type ModelServer, type Scripts } from '../monitor/src/harness/model-server.js'
import { runSession, startStack, type Stack } from './e2e/helpers.js'

// Ports 4530-4539 belong to this file (the harness range is 4500-4599).
const MODEL_ONLY_PORT = 4530
const STACK_BASE_PORT = 4532

const tools = [{ type: 'function', function: { name: 'write', parameters: { type: 'object' } } }]

async function chat(server: ModelServer, body: object): Promise<string> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'scripted-model', stream: true, ...body }),
  })
  expect(res.status).toBe(200)
  return res.text()
}

function chunks(sse: string): any[] {
  return sse
    .split('\n\n')
    .map((block) => block.replace(/^data: /, ''))
    .filter((data) => data && data !== '[DONE]')
    .map((data) => JSON.parse(data))
}

describe('scripted model server', () => {
  let server: ModelServer
  const scripts: Scripts = {
    demo: {
      turns: [
        {
          toolCalls: [{ name: 'write', args: { filePath: 'a.txt', content: 'a' } }],
          usage: { promptTokens: 100, completionTokens: 20, cachedTokens: 30, reasoningTokens: 5 },
        },
        { text: 'done', usage: { promptTokens: 200, completionTokens: 7 } },
      ],
    },
  }

  beforeAll(async () => {
    server = await startModelServer(scripts, { port: MODEL_ONLY_PORT })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('streams tool calls and usage', async () => {
    const sse = await chat(server, { tools, messages: [{ role: 'user', content: '[script:demo] go' }] })
    const parsed = chunks(sse)
    const calls = parsed.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? [])
    expect(calls[0]).toMatchObject({ index: 0, id: 'call_demo_0_0', function: { name: 'write' } })
    const args = calls.map((c) => c.function?.arguments ?? '').join('')
    expect(JSON.parse(args)).toEqual({ filePath: 'a.txt', content: 'a' })
    expect(parsed.find((c) => c.choices?.[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls')
    expect(parsed.at(-1).usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 30 },
      completion_tokens_details: { reasoning_tokens: 5 },
    })
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })

  it('serves titles without using a turn', async () => {
    const before = server.requests.length
    const sse = await chat(server, { messages: [{ role: 'system', content: 'Generate a title' }, { role: 'user', content: '[script:demo] go' }] })
    expect(chunks(sse).at(-1).usage.prompt_tokens).toBe(TITLE_USAGE.promptTokens)
    const again = await chat(server, { tools, messages: [{ role: 'user', content: '[script:demo] go' }] })
    expect(chunks(again).at(-1).usage.prompt_tokens).toBe(100)
    expect(server.requests.slice(before).map((r) => [r.kind, r.turn])).toEqual([
      ['title', null],
      ['turn', 0],
    ])
  })

  it('repeats the turn on retry', async () => {
    const history = [
      { role: 'user', content: [{ type: 'text', text: '[script:demo] go' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_demo_0_0', type: 'function', function: { name: 'write', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_demo_0_0', content: 'ok' },
    ]
    const first = chunks(await chat(server, { tools, messages: history }))
    const retry = chunks(await chat(server, { tools, messages: history }))
    for (const parsed of [first, retry]) {
      expect(parsed.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).toBe('done')
      expect(parsed.at(-1).usage.prompt_tokens).toBe(200)
    }
    const exhausted = chunks(await chat(server, { tools, messages: [...history, { role: 'assistant', content: 'done' }, { role: 'user', content: 'more' }] }))
    expect(exhausted.find((c) => c.choices?.[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop')
    expect(server.requests.at(-1)?.kind).toBe('fallback')
  })

  it('falls back without a script marker', async () => {
    await chat(server, { tools, messages: [{ role: 'user', content: 'no marker here' }] })
    expect(server.requests.at(-1)).toMatchObject({ kind: 'unknown', script: null })
  })
})

describe('opencode against the scripted model', () => {
  let stack: Stack | undefined

  beforeAll(async () => {
    stack = await startStack(
      (worktree) => ({
        write: {
          turns: [
            {
              toolCalls: [{ name: 'write', args: { filePath: path.join(worktree, 'out/hello.txt'), content: 'hello from the harness\n' } }],
              usage: { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 },
            },
            { text: 'Wrote it.', usage: { promptTokens: 1100, completionTokens: 10, cachedTokens: 1000 } },
          ],
        },
        refused: {
          turns: [
            {
              toolCalls: [{ name: 'bash', args: { command: 'touch refused.txt', description: 'Create refused.txt' } }],
              usage: { promptTokens: 500, completionTokens: 20 },
            },
            { text: 'Not allowed.', usage: { promptTokens: 520, completionTokens: 4 } },
          ],
        },
      }),
      { basePort: STACK_BASE_PORT, cost: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 } },
    )
  }, 60_000)

  afterAll(async () => {
    await stack?.stop()
  }, 20_000)

  it('writes approved file with exact cost', async () => {
    const s = stack!
    const { sessionId, permissions } = await runSession(s, '[script:write] write out/hello.txt')
    expect(fs.readFileSync(path.join(s.worktree.dir, 'out/hello.txt'), 'utf8')).toBe('hello from the harness\n')

    expect(permissions.map((p) => [p.type, p.properties.permission, p.properties.patterns])).toEqual([
      ['permission.asked', 'edit', ['out/hello.txt']],
    ])
    const played = s.model.requests.filter((r) => r.script === 'write').map((r) => [r.kind, r.turn])
    expect(played).toEqual([
      ['turn', 0],
      ['turn', 1],
    ])
    const second = s.model.requests.find((r) => r.script === 'write' && r.turn === 1)!
    expect(second.body.messages?.find((m) => m.role === 'tool')?.tool_call_id).toBe('call_write_0_0')

    const messages = await s.client.messages(sessionId)
    const tokens = messages.filter((m) => m.info.role === 'assistant').map((m) => m.info.tokens)
    expect(tokens).toEqual([
      { total: 1050, input: 800, output: 50, reasoning: 0, cache: { read: 200, write: 0 } },
      { total: 1110, input: 100, output: 10, reasoning: 0, cache: { read: 1000, write: 0 } },
    ])
    // 800*3 + 50*15 + 200*0.3 = 3210 and 100*3 + 10*15 + 1000*0.3 = 750 micro-dollars.
    const session = await s.client.session(sessionId)
    expect(Math.round(session.cost * 1e6)).toBe(3210 + 750)
  }, 60_000)

  it('skips a rejected bash command', async () => {
    const s = stack!
    const { permissions } = await runSession(s, '[script:refused] touch a file', () => 'reject')
    expect(permissions.map((p) => [p.properties.permission, p.properties.metadata?.command])).toEqual([['bash', 'touch refused.txt']])
    expect(fs.existsSync(path.join(s.worktree.dir, 'refused.txt'))).toBe(false)
    expect(s.events.events.some((e) => e.type === 'permission.replied' && e.properties.reply === 'reject')).toBe(true)
  }, 60_000)
})
