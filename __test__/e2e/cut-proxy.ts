// A loopback TCP proxy whose connections a test can cut, to take the network
// between the monitor and `opencode serve` down and up again while the server
// keeps running.

import net from 'node:net'

export interface CutProxy {
  url: string
  /** Destroys every open connection and resets new ones until `restore`. */
  cut(): void
  restore(): void
  /** Connections reset while the proxy was cut. */
  readonly refused: number
  close(): Promise<void>
}

export async function startCutProxy(targetPort: number, port: number): Promise<CutProxy> {
  const open = new Set<net.Socket>()
  let down = false
  let refused = 0
  const server = net.createServer((client) => {
    if (down) {
      refused += 1
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
    for (const socket of [client, upstream]) {
      open.add(socket)
      socket.once('close', () => open.delete(socket))
      // Either side failing ends the pair; the error itself is expected when cut.
      socket.once('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const destroyAll = () => {
    for (const socket of open) socket.destroy()
    open.clear()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => {
      down = true
      destroyAll()
    },
    restore: () => {
      down = false
    },
    get refused() {
      return refused
    },
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll()
        server.close(() => resolve())
      }),
  }
}
