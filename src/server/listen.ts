/**
 * What every listening server shares: the address options (`port`, `host`, `path`), the
 * shutdown grace and the `lifespan` switch, checked the same way; the app's lifespan startup,
 * then listening and the `url` it gives; and the graceful `close()` (stop accepting, let
 * in-flight requests finish within the grace, then cut them with 'server-shutdown', and resolve
 * once cleanup handlers and the lifespan shutdown have run).
 */
import type { AddressInfo, Server } from 'node:net'
import { type OptionBag, optionBoolean, optionNumber, optionString } from '../options.js'
import { type StartedLifespan, startLifespan } from './lifespan.js'
import type { PipelineContext } from './pipeline.js'

/** The address options of a listening server. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. @default 5000 */
  readonly port?: number
  /** Interface to listen on. When absent, all interfaces (as node and plackup do) and `url` says `localhost`. Use '127.0.0.1' to keep a server private to the machine. */
  readonly host?: string
  /** Listen on this unix socket path instead of a TCP port. */
  readonly path?: string
  /** Listen on an inherited listening socket by its file descriptor (0 as spawn-fcgi and mod_fcgid hand it over, or a systemd socket). */
  readonly fd?: number
  /** Grace period of `close()` for in-flight requests, in milliseconds. @default 10000 */
  readonly shutdownTimeout?: number
  /** Run the app's lifespan hooks: startup before listening, shutdown at the end of `close()`. Set false when you run them yourself (`startLifespan`), e.g. for one app on several servers. @default true */
  readonly lifespan?: boolean
}

/** A server's TLS options: `key` and `cert` required, anything else its module takes. */
export type TlsOptions<O extends { key?: unknown; cert?: unknown }> = O & {
  readonly key: NonNullable<O['key']>
  readonly cert: NonNullable<O['cert']>
}

/** A listening server, whichever protocol it speaks. */
export interface Listening<S> {
  /** Where it listens: `scheme://host:port/`, or `scheme+unix://<encoded path>/` for a unix socket. */
  readonly url: string
  /** The TCP port (0 for a unix socket). */
  readonly port: number
  /** The node server underneath. */
  readonly server: S
  /**
   * Stops accepting, lets in-flight requests finish within `shutdownTimeout`, then aborts their
   * `tsgix.signal` with 'server-shutdown' and cuts them. Resolves when everything is closed,
   * cleanup handlers have run and then the app's lifespan shutdown hooks.
   */
  close(): Promise<void>
}

/** The keys of {@link ListenOptions}. */
export const LISTEN_KEYS = ['port', 'host', 'path', 'fd', 'shutdownTimeout', 'lifespan'] as const

/** Where to listen, checked. */
export interface ListenAt {
  readonly port: number | undefined
  readonly host: string | undefined
  readonly path: string | undefined
  readonly fd: number | undefined
  /** The shutdown grace in milliseconds. */
  readonly grace: number
  /** Whether the server runs the app's lifespan hooks. */
  readonly lifespan: boolean
}

/** Reads and checks the address options (a TypeError naming `component` and the option). */
export function readListen(component: string, opts: OptionBag): ListenAt {
  const port = optionNumber(component, opts, 'port', { min: 0, max: 65535, integer: true })
  const host = optionString(component, opts, 'host')
  const path = optionString(component, opts, 'path')
  if (host === '') throw new TypeError(`${component}: option 'host' must not be empty`)
  if (path === '') throw new TypeError(`${component}: option 'path' must not be empty`)
  if (path !== undefined && (port !== undefined || host !== undefined)) {
    throw new TypeError(`${component}: option 'path' cannot be combined with 'port' or 'host'`)
  }
  const fd = optionNumber(component, opts, 'fd', { min: 0, integer: true })
  if (fd !== undefined && (port !== undefined || host !== undefined || path !== undefined)) {
    throw new TypeError(`${component}: option 'fd' cannot be combined with 'port', 'host' or 'path'`)
  }
  const grace = optionNumber(component, opts, 'shutdownTimeout', { min: 0 }) ?? 10_000
  const lifespan = optionBoolean(component, opts, 'lifespan') ?? true
  return { port, host, path, fd, grace, lifespan }
}

/** Checks the `tls` option: an object with `key` and `cert`. */
export function checkTls(component: string, tls: unknown): void {
  const given = tls as { key?: unknown; cert?: unknown } | null | undefined
  if (tls !== undefined && (given === null || typeof given !== 'object' || !given.key || !given.cert)) {
    throw new TypeError(`${component}: option 'tls' must be an object with 'key' and 'cert'`)
  }
}

/**
 * Listens on `at` and resolves with the bound port and the URL: `scheme://host:port/`,
 * `scheme+unix://<encoded path>/` for a unix socket, or `scheme+fd://<fd>/` for an inherited
 * one (port 0 for both).
 */
export function listenOn(
  server: Server,
  at: ListenAt,
  scheme: string,
): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const ready = () => {
      server.off('error', reject)
      const { host, path, fd } = at
      if (path !== undefined) {
        resolve({ url: `${scheme}+unix://${encodeURIComponent(path)}/`, port: 0 })
        return
      }
      if (fd !== undefined) {
        const address = server.address()
        const port = address !== null && typeof address === 'object' ? address.port : 0
        resolve({ url: `${scheme}+fd://${fd}/`, port })
        return
      }
      const port = (server.address() as AddressInfo).port
      const name = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host
      resolve({ url: `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}/`, port })
    }
    if (at.fd !== undefined) server.listen({ fd: at.fd }, ready)
    else if (at.path !== undefined) server.listen(at.path, ready)
    else if (at.host !== undefined) server.listen(at.port ?? 5000, at.host, ready)
    else server.listen(at.port ?? 5000, ready)
  })
}

/**
 * Runs the lifespan startup of the context's app (unless `at.lifespan` is false), then listens
 * as {@link listenOn} does: nothing is accepted before every startup hook has finished. A
 * startup failure rejects with its error and nothing listens; a listen failure runs the
 * shutdown of what started, then rejects. Give the lifespan to {@link gracefulClose}.
 */
export async function startAndListen(
  ctx: PipelineContext,
  server: Server,
  at: ListenAt,
  scheme: string,
): Promise<{ url: string; port: number; lifespan: StartedLifespan | undefined }> {
  const lifespan = at.lifespan ? await startLifespan(ctx.app, ctx.errors) : undefined
  try {
    return { ...(await listenOn(server, at, scheme)), lifespan }
  } catch (err) {
    await lifespan?.shutdown()
    throw err
  }
}

/** How a server stops, for {@link gracefulClose}. */
export interface Stopping {
  /** Stops accepting; resolves when the listener and every connection are closed. */
  stop(): Promise<void>
  /** Closes connections that carry no request (called at once and whenever a request ends). */
  closeIdle(): void
  /** The grace is over: what is still open is cut (in-flight exchanges are cut before this). */
  cutAll(): void
  /** The lifespan {@link startAndListen} started: shut down last, once all is closed. */
  readonly lifespan?: StartedLifespan | undefined
}

/**
 * The `close()` of a server: idempotent; marks the context closing (responses close their
 * connections), lets in-flight requests finish within `grace`, then aborts them with
 * 'server-shutdown' and cuts what is left; once everything is closed and cleanup handlers have
 * run, runs the lifespan shutdown, and resolves.
 */
export function gracefulClose(ctx: PipelineContext, grace: number, how: Stopping): () => Promise<void> {
  let closed: Promise<void> | undefined
  return () => {
    if (closed) return closed
    ctx.closing = true
    let drained: () => void = () => {}
    const idle = new Promise<void>((resolve) => {
      drained = resolve
    })
    ctx.onEnded = () => {
      how.closeIdle()
      if (ctx.inflight.size === 0) drained()
    }
    if (ctx.inflight.size === 0) drained()
    const timer = setTimeout(() => {
      for (const ex of ctx.inflight) ex.cut('server-shutdown')
      how.cutAll()
    }, grace)
    for (const ex of ctx.inflight) ex.shutdown()
    const stopped = how.stop()
    how.closeIdle()
    closed = Promise.all([stopped, idle]).then(async () => {
      clearTimeout(timer)
      while (ctx.cleanups.size > 0) await Promise.all(ctx.cleanups)
      await how.lifespan?.shutdown()
    })
    return closed
  }
}
