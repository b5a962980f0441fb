/**
 * tsgiup's command line: `tsgiup [options] [app-file]`, parsed with node:util `parseArgs`
 * (long and short forms, `--opt=value`, `-p5000`), then checked and turned into
 * {@link CliOptions}. Every mistake is a usage {@link CliError} naming the option.
 */
import { fstatSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { errorCode, messageOf, usageError } from './errors.js'

/** One address to listen on: a TCP host and port, or a unix socket path. */
export interface ListenSpec {
  /** Interface; absent means all interfaces. */
  readonly host?: string
  readonly port?: number
  readonly path?: string
  /** An inherited listening socket: fd 0, as a FastCGI spawner (spawn-fcgi, mod_fcgid) hands it over. */
  readonly fd?: number
}

/** The parsed and checked command line. */
export interface CliOptions {
  readonly appFile: string | undefined
  readonly evalCode: string | undefined
  readonly listen: readonly ListenSpec[]
  readonly server: string
  readonly environment: string
  readonly reload: boolean
  readonly reloadPaths: readonly string[]
  readonly modules: readonly string[]
  readonly workers: number | undefined
  readonly accessLog: string | undefined
  readonly tlsCert: string | undefined
  readonly tlsKey: string | undefined
  readonly keepAliveTimeout: number | undefined
  readonly shutdownTimeout: number | undefined
  readonly help: boolean
  readonly version: boolean
}

/** The servers `-s` accepts (`cgi` answers the one CGI request of the process instead of listening). */
export const SERVERS = ['node', 'http2', 'fastcgi', 'cgi'] as const

const SPEC = {
  app: { type: 'string', short: 'a' },
  host: { type: 'string', short: 'o' },
  port: { type: 'string', short: 'p' },
  listen: { type: 'string', short: 'l', multiple: true },
  server: { type: 'string', short: 's' },
  env: { type: 'string', short: 'E' },
  reload: { type: 'boolean', short: 'r' },
  'reload-paths': { type: 'string', short: 'R', multiple: true },
  module: { type: 'string', short: 'M', multiple: true },
  eval: { type: 'string', short: 'e' },
  workers: { type: 'string', short: 'w' },
  'access-log': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'keep-alive-timeout': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Parses `argv` (without node and the script); `env` gives the default environment. */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CliOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SPEC; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options: SPEC, allowPositionals: true, strict: true })
  } catch (err) {
    throw usageError(parseArgsProblem(err))
  }
  const { values: v, positionals } = parsed
  if (positionals.length > 1) throw usageError(`one app file at most, got ${positionals.join(' ')}`)
  const positional = positionals[0]
  if (v.app !== undefined && positional !== undefined && v.app !== positional) {
    throw usageError(`the app file is given twice: --app ${v.app} and ${positional}`)
  }
  const appFile = nonEmpty('--app', v.app ?? positional)
  const evalCode = v.eval
  if (evalCode !== undefined && appFile !== undefined) {
    throw usageError('give either -e/--eval code or an app file, not both')
  }
  if (evalCode !== undefined && evalCode.trim() === '') throw usageError('option -e/--eval needs code')

  const server = v.server ?? 'node'
  if (!(SERVERS as readonly string[]).includes(server)) {
    throw usageError(`unknown server '${server}' for -s/--server (known: ${SERVERS.join(', ')})`)
  }
  if (server === 'cgi' && (v.reload || v['reload-paths'] !== undefined || v.workers !== undefined)) {
    throw usageError('-s cgi answers one request per process: it takes no -r/--reload, -R or -w/--workers')
  }
  const tlsCert = nonEmpty('--tls-cert', v['tls-cert'])
  const tlsKey = nonEmpty('--tls-key', v['tls-key'])
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw usageError('--tls-cert and --tls-key go together: give both')
  }
  if (server === 'fastcgi' && (tlsCert !== undefined || v['keep-alive-timeout'] !== undefined)) {
    throw usageError(
      '-s fastcgi takes no --tls-cert/--tls-key or --keep-alive-timeout: the web server in front owns the client connections',
    )
  }
  const reloadPaths = (v['reload-paths'] ?? []).flatMap((list) =>
    list
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  )
  return {
    appFile,
    evalCode,
    listen:
      server === 'fastcgi' &&
      v.listen === undefined &&
      v.host === undefined &&
      v.port === undefined &&
      spawned()
        ? [{ fd: 0 }]
        : listenSpecs(v.listen, v.host, v.port),
    server,
    environment: nonEmpty('-E/--env', v.env) ?? env.TSGI_ENV ?? env.NODE_ENV ?? 'development',
    reload: v.reload === true || reloadPaths.length > 0,
    reloadPaths,
    modules: (v.module ?? []).map((m) => nonEmpty('-M/--module', m) ?? ''),
    workers: v.workers === undefined ? undefined : integer('--workers', v.workers, 1, 1024),
    accessLog: nonEmpty('--access-log', v['access-log']),
    tlsCert,
    tlsKey,
    keepAliveTimeout: duration('--keep-alive-timeout', v['keep-alive-timeout']),
    shutdownTimeout: duration('--shutdown-timeout', v['shutdown-timeout']),
    help: v.help === true,
    version: v.version === true,
  }
}

/**
 * True when stdin is a socket: a FastCGI spawner (spawn-fcgi, mod_fcgid, a web server running
 * the app itself) hands over the listening socket as fd 0, as Plack's FCGI handler expects.
 */
function spawned(): boolean {
  try {
    return fstatSync(0).isSocket()
  } catch {
    return false
  }
}

function parseArgsProblem(err: unknown): string {
  const message = messageOf(err)
  // node names the option as '--port' or as '-p, --port <value>'.
  const quoted = /'(-[^']*)'/.exec(message)?.[1] ?? ''
  const option =
    quoted
      .split(', ')
      .pop()
      ?.replace(/ <value>$/, '') ?? quoted
  switch (errorCode(err)) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take/.test(message)) return `option ${option} takes no value`
      if (/ambiguous/.test(message))
        return `option ${option} needs a value (write ${option}=-… for one that starts with '-')`
      return `option ${option} needs a value`
    default:
      return message
  }
}

function nonEmpty(name: string, value: string | undefined): string | undefined {
  if (value === '') throw usageError(`option ${name} must not be empty`)
  return value
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max)) {
    throw usageError(`option ${name} must be a whole number from ${min} to ${max}, got '${value}'`)
  }
  return n
}

/** Milliseconds from `1500`, `1500ms` or `1.5s`. */
function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim())
  if (!m) throw usageError(`option ${name} must be a duration such as 5000, 5000ms or 5s, got '${value}'`)
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1))
}

function listenSpecs(
  listen: readonly string[] | undefined,
  host: string | undefined,
  port: string | undefined,
): ListenSpec[] {
  if (listen !== undefined) {
    if (host !== undefined || port !== undefined) {
      throw usageError('-l/--listen cannot be combined with -o/--host or -p/--port')
    }
    return listen.map(parseListen)
  }
  const p = port === undefined ? 5000 : integer('-p/--port', port, 0, 65535)
  if (host === undefined) return [{ port: p }]
  return [{ host: nonEmpty('-o/--host', host) ?? '', port: p }]
}

/**
 * One `-l` value: `host:port`, `[v6]:port`, `:port` or `port` (all interfaces), or a unix
 * socket path (anything with a `/`, or without a `:` that is not a port number).
 */
export function parseListen(value: string): ListenSpec {
  if (value === '') throw usageError('option -l/--listen must not be empty')
  if (/^\d+$/.test(value)) return { port: integer('-l/--listen', value, 0, 65535) }
  if (value.includes('/') || !value.includes(':')) return { path: value }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value)
  if (!m) throw usageError(`option -l/--listen takes host:port or a socket path, got '${value}'`)
  const port = integer('-l/--listen', m[3] ?? '', 0, 65535)
  const host = m[1] ?? m[2] ?? ''
  return host === '' ? { port } : { host, port }
}
