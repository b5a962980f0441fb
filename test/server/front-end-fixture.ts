/**
 * What the fixtures of real web servers in front of tsgi (lighttpd, Apache httpd) share:
 * {@link startFrontEnd} writes the server's config into a fresh temp dir (with a `www` document
 * root), runs the server in the foreground on a free 127.0.0.1 port and resolves once the port
 * accepts connections; `stop()` ends it and removes the dir. The config of each run is the
 * fixture's own lines (port, logs, paths inside the dir) plus the test's, given as text or as
 * a function of where the server runs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where a front end runs: its temp dir and port. */
export interface Placement {
  /** The temp dir holding the config, the logs and `www` (the document root); removed by `stop`. */
  readonly dir: string
  readonly port: number
}

/** A test's part of a config: text, or made from where the server runs (a socket path inside `dir`, say). */
export type ConfigPart = string | ((at: Placement) => string)

/** A running front end. */
export interface FrontEnd extends Placement {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly url: string
  /** The server's error logs so far, with what CGI scripts wrote to stderr. */
  errorLog(): string
  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its dir. */
  stop(): Promise<void>
}

/** How to run one kind of front end. */
export interface FrontEndSpec {
  /** Its name, for messages. */
  readonly name: string
  readonly bin: string
  /** The config file's name inside the dir. */
  readonly configName: string
  /** The whole config for a run. */
  config(at: Placement): string
  /** The command-line arguments, given the config file's path. */
  args(configFile: string, at: Placement): readonly string[]
  /**
   * Runs it in a process group of its own: Apache ends by signalling its whole group, which
   * would otherwise be the test runner's.
   */
  readonly ownGroup?: boolean
  /** The paths of its error logs (and of where scripts' stderr goes). */
  logs(at: Placement): readonly string[]
}

/** The text of a {@link ConfigPart} for a run. */
export function configText(part: ConfigPart, at: Placement): string {
  return typeof part === 'string' ? part : part(at)
}

/** Stops a front end: SIGTERM, then SIGKILL if it has not exited (`exited`) within 3 s. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves once `port` accepts a connection; rejects when `child` exits first or 10 s pass. */
export async function accepting(
  name: string,
  port: number,
  child: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening: ${log()}`)
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within 10 s: ${log()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** Starts the front end `spec` describes; throws when it does not start. */
export async function startFrontEnd(spec: FrontEndSpec): Promise<FrontEnd> {
  let lastError: unknown
  // The free port can be taken between the probe and the server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `tsgi-${spec.name}-`))
    // Apache's children and CGI scripts may run as another user (nobody, when started as root).
    chmodSync(dir, 0o755)
    mkdirSync(join(dir, 'www'))
    const at: Placement = { dir, port: await freePort() }
    const conf = join(dir, spec.configName)
    writeFileSync(conf, spec.config(at))
    let stderr = ''
    const child = spawn(spec.bin, spec.args(conf, at), {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: spec.ownGroup === true,
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = once(child, 'exit')
    const logs = spec.logs(at)
    const errorLog = () => logs.map(readOr).join('')
    const remove = () => rmSync(dir, { recursive: true, force: true })
    try {
      await accepting(spec.name, at.port, child, () => `${stderr.trim()} ${errorLog().trim()}`)
    } catch (err) {
      lastError = err
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
      remove()
      continue
    }
    return {
      ...at,
      url: `http://127.0.0.1:${at.port}`,
      errorLog,
      stop: async () => {
        await stopChild(child, exited)
        remove()
      },
    }
  }
  throw lastError
}
