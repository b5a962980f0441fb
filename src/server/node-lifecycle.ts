/**
 * How a request ends on the node server: the error writers reject with once it was aborted,
 * the settled promises writers hand out, the cleanup handlers run after it, closing a
 * connection whose request body was left partly read, and the descriptions of errors written
 * to `tsgi.errors`.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Env } from '../types.js'
import type { ServerContext } from './node-exchange.js'
import { typeName } from './node-write.js'

/** The error Writer.write/close reject with once the request was aborted; its message names the reason. */
export class ResponseAbortedError extends Error {
  readonly reason: unknown
  constructor(reason: unknown) {
    super(`tsgi: response aborted (${String(reason)})`)
    this.name = 'ResponseAbortedError'
    this.reason = reason
  }
}

/** A settled promise shared by writes that need not wait. */
export const RESOLVED = Promise.resolve()

function ignore(): void {}

/** A promise rejected with `err` that never counts as unhandled (the app may not await it). */
export function rejected(err: Error): Promise<void> {
  const p = Promise.reject(err)
  p.catch(ignore)
  return p
}

/** Runs `tsgix.cleanup.handlers` in order, each awaited; failures are reported, not thrown. */
export function runCleanup(ctx: ServerContext, env: Env, report: (message: string) => void): void {
  const handlers = env['tsgix.cleanup.handlers']
  if (!Array.isArray(handlers) || handlers.length === 0) return
  const run = (async () => {
    for (const handler of handlers) {
      try {
        if (typeof handler !== 'function') throw new TypeError(`cleanup handler is ${typeName(handler)}`)
        await handler(env)
      } catch (err) {
        report(`cleanup handler failed: ${describeError(err)}`)
      }
    }
  })()
  ctx.cleanups.add(run)
  run.then(() => ctx.cleanups.delete(run))
}

/** An error's stack (or a description of a non-error) for tsgi.errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`
  return `non-error thrown: ${typeName(err)} ${String(err)}`
}

/**
 * After a complete response: node drains a request body nobody touched, but one the app began
 * to read and left (a `break` out of `for await`, an iterator held) would stall the connection,
 * so the connection is closed once the response is flushed (spec 5.5).
 */
export function endUnreadBody(req: IncomingMessage, socket: Socket): void {
  if (!req.complete && (req.destroyed || req.readableFlowing !== true)) socket.destroySoon()
}
