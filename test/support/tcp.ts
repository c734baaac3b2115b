/**
 * TCP endpoints for failure tests, on loopback only: a port where nothing listens, a
 * listener that accepts connections and never answers (a hung server, a black-holed proxy),
 * services that are not PostgreSQL (an SSH-like banner, HTTP, an instant close), and a relay
 * that makes the test server reachable over IPv6.
 */
import http from 'node:http'
import net from 'node:net'

/** A port on 127.0.0.1 that was free a moment ago (nothing listens there). */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A listener on 127.0.0.1 that accepts and then says nothing (a hung server). Close it when done. */
export function silentListener(): Promise<Listener> {
  return listen(net.createServer(), '127.0.0.1')
}

/** A started listener: its port and how to stop it. */
export interface Listener {
  port: number
  /** Connections accepted so far. */
  connections(): number
  close(): Promise<void>
}

/** Starts `server` on `host`, port 0, and tracks its sockets so that close() ends them. */
async function listen(server: net.Server, host: string): Promise<Listener> {
  const sockets = new Set<net.Socket>()
  let accepted = 0
  server.on('connection', (socket: net.Socket) => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A service that is not PostgreSQL on 127.0.0.1: `greeting` is written as soon as a client
 * connects (an SSH server's banner), or, when it is undefined, the connection is closed at once.
 */
export function greetingListener(greeting: string | undefined): Promise<Listener> {
  return listen(
    net.createServer((socket) => {
      if (greeting === undefined) socket.destroy()
      else socket.write(greeting)
    }),
    '127.0.0.1',
  )
}

/** A real HTTP server on 127.0.0.1 (it answers a PostgreSQL client with `400 Bad Request`). */
export function httpListener(): Promise<Listener> {
  return listen(
    http.createServer((_request, response) => response.end('hello')),
    '127.0.0.1',
  )
}

/** Whether this machine can listen on the IPv6 loopback address ::1. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '::1', resolve)
    })
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return true
  } catch {
    return false
  }
}

/**
 * A plain TCP relay from `listenHost` (e.g. `::1`) to `targetHost:targetPort`: reaches the
 * real server through an address it does not listen on itself.
 */
export function tcpRelay(listenHost: string, targetHost: string, targetPort: number): Promise<Listener> {
  return listen(
    net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
      client.pipe(upstream).pipe(client)
    }),
    listenHost,
  )
}

/**
 * A relay to `127.0.0.1:targetPort` that lets each connection send `afterBytes` bytes upstream
 * and then, in mode `drop`, cuts it (a connection dropped mid-upload), or in mode `stall`
 * stops forwarding and holds it open (a hung transfer). Small requests pass untouched.
 * `cut()` says how many connections it has cut or stalled; `requests()` the HTTP request lines
 * that passed (`DELETE /bucket/key?uploadId=…`).
 */
export async function faultyRelay(
  targetPort: number,
  afterBytes: number,
  mode: 'drop' | 'stall',
): Promise<Listener & { cut(): number; requests(): string[] }> {
  let cut = 0
  const requests: string[] = []
  const listener = await listen(
    net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1')
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
      let sent = 0
      let stopped = false
      client.on('data', (chunk: Buffer) => {
        if (stopped) return
        sent += chunk.length
        if (sent <= afterBytes) {
          for (const m of chunk.toString('latin1').matchAll(/(?:GET|PUT|POST|DELETE|HEAD) \/\S* HTTP\/1\.1/g)) requests.push(m[0])
          upstream.write(chunk)
          return
        }
        stopped = true
        cut++
        if (mode === 'drop') {
          client.destroy()
          upstream.destroy()
        }
      })
      client.on('end', () => upstream.end())
      upstream.pipe(client)
    }),
    '127.0.0.1',
  )
  return { ...listener, cut: () => cut, requests: () => [...requests] }
}
