/**
 * Starts the server `-s` names (node HTTP/1.1, http2, or fastcgi) on every `-l` address (or
 * `-o`/`-p`; fastcgi also on the listening socket a spawner hands over as fd 0),
 * with TLS and timeouts from the command line, and turns listen failures (address in use,
 * permission denied, bad TLS files) into one-line {@link CliError}s. A stale unix socket left
 * by a killed server is replaced. A server module is loaded only when it is chosen; `-s cgi`
 * listens nowhere: {@link answerCgiRequest} answers the process's one CGI request.
 */
import { readFileSync, statSync, unlinkSync } from 'node:fs'
import { connect } from 'node:net'
import { resolve } from 'node:path'
import type { Listening } from '../server/listen.js'
import type { ServeOptions } from '../server/node.js'
import type { App } from '../types.js'
import { CliError, errorCode, messageOf } from './errors.js'
import type { CliOptions, ListenSpec } from './options.js'

/** A server `tsgiup` started, whichever kind. */
export type ListeningServer = Listening<unknown>

type Serve = (app: App, options: ServeOptions) => Promise<ListeningServer>

/** The `serve` of the server `-s` names. */
async function serverModule(name: string): Promise<Serve> {
  if (name === 'http2') return (await import('../server/http2.js')).serve
  if (name === 'fastcgi') return (await import('../server/fastcgi.js')).serve
  return (await import('../server/node.js')).serve
}

/** Listens on every address of `opts`; on a failure closes the ones already open. */
export async function listenAll(
  app: App,
  opts: CliOptions,
  cwd: string,
  multiprocess: boolean,
): Promise<ListeningServer[]> {
  const serve = await serverModule(opts.server)
  const base: ServeOptions = {
    multiprocess,
    lifespan: false, // run once for the process, by serveApp, not once per address
    ...(opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? {
          tls: {
            cert: readPem('--tls-cert', opts.tlsCert, cwd),
            key: readPem('--tls-key', opts.tlsKey, cwd),
          },
        }
      : {}),
    ...(opts.keepAliveTimeout === undefined ? {} : { keepAliveTimeout: opts.keepAliveTimeout }),
    ...(opts.shutdownTimeout === undefined ? {} : { shutdownTimeout: opts.shutdownTimeout }),
  }
  const servers: ListeningServer[] = []
  try {
    for (const spec of opts.listen) servers.push(await listenOne(serve, app, base, spec, cwd))
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()))
    throw err
  }
  return servers
}

function readPem(option: string, file: string, cwd: string): Buffer {
  try {
    return readFileSync(resolve(cwd, file))
  } catch (err) {
    throw new CliError(`cannot read ${option} ${file}: ${errorCode(err) ?? messageOf(err)}`)
  }
}

/** The address as a user writes it: `host:port`, `:port` or the socket path. */
export function describeListen(spec: ListenSpec): string {
  if (spec.path !== undefined) return spec.path
  if (spec.fd !== undefined) return `fd ${spec.fd}`
  const host = spec.host === undefined ? '' : spec.host.includes(':') ? `[${spec.host}]` : spec.host
  return `${host}:${spec.port ?? 5000}`
}

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
}

async function listenOne(
  serve: Serve,
  app: App,
  base: ServeOptions,
  spec: ListenSpec,
  cwd: string,
): Promise<ListeningServer> {
  const path = spec.path === undefined ? undefined : resolve(cwd, spec.path)
  const options: ServeOptions = {
    ...base,
    ...(path !== undefined
      ? { path }
      : spec.fd !== undefined
        ? { fd: spec.fd }
        : { port: spec.port ?? 5000 }),
    ...(spec.host !== undefined ? { host: spec.host } : {}),
  }
  try {
    return await serve(app, options)
  } catch (err) {
    if (path !== undefined && errorCode(err) === 'EADDRINUSE' && (await isStaleSocket(path))) {
      unlinkSync(path)
      return listenOne(serve, app, base, spec, cwd)
    }
    const code = errorCode(err)
    const reason = (code !== undefined && REASONS[code]) || messageOf(err)
    throw new CliError(`cannot listen on ${describeListen(spec)}: ${reason}`)
  }
}

/** True when `path` is a unix socket nobody listens on (left behind by a killed server). */
function isStaleSocket(path: string): Promise<boolean> {
  if (!statSync(path, { throwIfNoEntry: false })?.isSocket()) return Promise.resolve(false)
  return new Promise((done) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.destroy()
      done(false)
    })
    socket.once('error', (err) => done(errorCode(err) === 'ECONNREFUSED'))
  })
}

/**
 * `-s cgi`: answers the CGI request of this process (its environment and stdin) with `app` on
 * stdout; resolves once the response is out and its cleanup handlers ran. The lifespan is the
 * caller's (run once around the request).
 */
export async function answerCgiRequest(app: App): Promise<void> {
  const { runCgi } = await import('../server/cgi.js')
  await runCgi(app, { lifespan: false })
}

/** Facts for the ready line. */
export interface ReadyFacts {
  readonly server: string
  readonly environment: string
  readonly pid: number
  readonly workers?: number | undefined
  readonly reload?: boolean | undefined
}

/** `tsgiup: listening on <urls> (server node, env development, pid 1234)`, newline included. */
export function readyLine(urls: readonly string[], facts: ReadyFacts): string {
  const details = [`server ${facts.server}`, `env ${facts.environment}`]
  if (facts.workers !== undefined) details.push(`workers ${facts.workers}`)
  if (facts.reload) details.push('reload')
  details.push(`pid ${facts.pid}`)
  return `tsgiup: listening on ${urls.join(', ')} (${details.join(', ')})\n`
}
