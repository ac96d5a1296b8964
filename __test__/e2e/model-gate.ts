// A loopback proxy in front of the scripted model server that can hold a
// chat request before forwarding it. Tests use it to stop an agent between
// two steps: the previous step has finished and its tool has run, and the
// next model call waits until the test releases it.

import http from 'node:http'
import { isTitleRequest, scriptName, type ChatRequest } from '../../monitor/src/harness/model-server.ts'

/** What the proxy knows about a chat request before forwarding it. */
export interface ChatCall {
  /** Script named by the `[script:NAME]` marker; null for title requests. */
  script: string | null
  /** Assistant messages already in the request: the turn the model server will play. */
  turn: number
  title: boolean
}

/** Returns a promise to wait for before the call is forwarded, or nothing to forward at once. */
export type Hold = (call: ChatCall) => Promise<void> | void

export interface ModelGate {
  url: string
  /** Every chat call seen, in arrival order. */
  calls: ChatCall[]
  /** Chat calls passed on to the model server, with the time (ms since the epoch); a call whose client left while held is not. */
  forwarded: Array<ChatCall & { at: number }>
  close(): Promise<void>
}

export async function startModelGate(targetUrl: string, port: number, hold: Hold): Promise<ModelGate> {
  const calls: ChatCall[] = []
  const forwarded: Array<ChatCall & { at: number }> = []
  const target = new URL(targetUrl)
  const server = http.createServer((req, res) => {
    void forward(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `model gate: ${String(error)}` } }))
    })
  })

  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req)
    if (req.method === 'POST' && (req.url ?? '').includes('/chat/completions')) {
      const call = describe(JSON.parse(body.toString('utf8')) as ChatRequest)
      calls.push(call)
      await hold(call)
      // The agent may have cancelled the call, or its server gone away, while the call was held.
      if (res.destroyed || req.socket.destroyed) return
      forwarded.push({ ...call, at: Date.now() })
    }
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers)
          reply.pipe(res)
          reply.once('end', resolve)
          reply.once('error', reject)
        },
      )
      upstream.once('error', reject)
      upstream.end(body)
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function describe(body: ChatRequest): ChatCall {
  const messages = body.messages ?? []
  const title = isTitleRequest(body)
  return {
    script: title ? null : scriptName(messages),
    turn: messages.filter((message) => message.role === 'assistant').length,
    title,
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** A promise with its resolver, for holding calls until a test lets them go. */
export function latch(): { promise: Promise<void>; open: () => void } {
  let open = () => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}
