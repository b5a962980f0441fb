/**
 * Helpers for the node server tests: a server on 127.0.0.1 port 0 with its `tsgi.errors`
 * captured, raw socket requests, and waiting on events instead of sleeping.
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterEach } from 'vitest'
import { type ServeOptions, serve, type TsgiServer } from '../../src/server/node.js'
import type { App } from '../../src/types.js'

/** An error stream that records what is written and lets a test wait for a line. */
export class ErrorSink {
  readonly lines: string[] = []
  private waiting: [RegExp, () => void][] = []
  write(message: string): void {
    this.lines.push(message)
    this.waiting = this.waiting.filter(([re, resolve]) => {
      if (!re.test(message)) return true
      resolve()
      return false
    })
  }
  get text(): string {
    return this.lines.join('')
  }
  /** Resolves when a line matching `re` has been written (or already was). */
  waitFor(re: RegExp): Promise<void> {
    if (this.lines.some((l) => re.test(l))) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push([re, resolve]))
  }
}

const open: TsgiServer[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

export interface Started {
  readonly server: TsgiServer
  readonly url: string
  readonly port: number
  readonly errors: ErrorSink
}

/** Serves `app` on 127.0.0.1, port 0; closed after the test. */
export async function start(app: App, options: ServeOptions = {}): Promise<Started> {
  const errors = new ErrorSink()
  const server = await serve(app, { port: 0, host: '127.0.0.1', errors, shutdownTimeout: 1000, ...options })
  open.push(server)
  return { server, url: server.url.replace(/\/$/, ''), port: server.port, errors }
}

/** Opens a raw connection. */
export async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

/** Sends `text` on a new connection and returns everything the server sent until it closed. */
export async function raw(port: number, text: string | Buffer): Promise<string> {
  const socket = await rawConnect(port)
  return rawExchange(socket, text)
}

/** Sends `text` on `socket` and reads until the server closes it. */
export function rawExchange(socket: Socket, text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    socket.on('data', (d: Buffer) => parts.push(d))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(parts).toString('latin1')))
    socket.write(text)
  })
}

/** Reads from `socket` until the bytes received so far match `re`; returns them. */
export function readUntil(socket: Socket, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (d: Buffer) => {
      seen += d.toString('latin1')
      if (re.test(seen)) {
        socket.off('data', onData)
        socket.off('close', onClose)
        resolve(seen)
      }
    }
    const onClose = () => reject(new Error(`connection closed before ${re}; got ${JSON.stringify(seen)}`))
    socket.on('data', onData)
    socket.once('close', onClose)
  })
}

/** A promise with its resolve function, for waiting on something the app does. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
