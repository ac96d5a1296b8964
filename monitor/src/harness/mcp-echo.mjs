// A minimal MCP server over stdio (newline-delimited JSON-RPC 2.0) with one
// tool, `echo`, so captures can show how OpenCode asks permission for an MCP
// tool. Plain JavaScript so `node` runs it without a loader.

import readline from 'node:readline'

const TOOLS = [
  {
    name: 'echo',
    description: 'Returns the text it is given.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
]

function respond(id, result) {
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`)
}

function fail(id, code, message) {
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`)
}

function handle(message) {
  const { id, method, params } = message
  if (id === undefined || id === null) return // a notification, such as notifications/initialized
  switch (method) {
    case 'initialize':
      respond(id, {
        protocolVersion: params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'mcg-echo', version: '0.1.0' },
      })
      return
    case 'ping':
      respond(id, {})
      return
    case 'tools/list':
      respond(id, { tools: TOOLS })
      return
    case 'tools/call':
      if (params?.name !== 'echo') {
        fail(id, -32602, `unknown tool "${params?.name}"`)
        return
      }
      respond(id, { content: [{ type: 'text', text: String(params.arguments?.text ?? '') }] })
      return
    default:
      fail(id, -32601, `method "${method}" not found`)
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return
  try {
    handle(JSON.parse(line))
  } catch (error) {
    fail(null, -32700, `invalid JSON: ${String(error)}`)
  }
})
