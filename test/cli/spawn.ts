/**
 * Test support for the tsgiup tests: spawns the real `tsgiup` bin (from source, through tsx,
 * as `npm start` would run it), collects its stderr lines, and waits on lines and exit; plus
 * a small HTTP client that opens a new connection per request.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

export const root = resolve(import.meta.dirname, '../..')
export const bin = join(root, 'src/cli/bin.ts')
/** tsx's loader, by URL: `--import tsx` would be resolved from the app's temp directory. */
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href

/** A running tsgiup. */
export interface Tsgiup {
  readonly child: ChildProcess
  /** Every stderr line so far. */
  readonly lines: string[]
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  /** Resolves with the first stderr line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp): Promise<string>
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** The first URL of the ready line (waits for it). */
  url(): Promise<string>
}

const running = new Set<ChildProcess>()

/** Kills every tsgiup still running (for afterEach). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

/** Spawns `tsgiup ...args` in `cwd`; `command` replaces the source bin (e.g. the compiled one). */
export function tsgiup(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; command?: readonly string[] },
): Tsgiup {
  const command = options.command ?? ['--import', tsx, bin]
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: undefined, TSGI_ENV: undefined }
  Object.assign(env, options.env)
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const child = spawn(process.execPath, [...command, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  const lines: string[] = []
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const waiters = new Set<() => void>()
  createInterface({ input: child.stderr! }).on('line', (line) => {
    lines.push(line)
    for (const w of waiters) w()
  })
  const exited = new Promise<number | string>((done) => {
    child.on('exit', (code, signal) => {
      running.delete(child)
      done(code ?? signal ?? 'unknown')
    })
  })
  const closed = new Promise<void>((done) => child.stderr?.on('close', () => done()))
  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((done, fail) => {
      const check = () => {
        const hit = lines.find((l) => pattern.test(l))
        if (hit === undefined) return false
        waiters.delete(check)
        done(hit)
        return true
      }
      if (check()) return
      waiters.add(check)
      void closed.then(() => {
        if (!check()) fail(new Error(`tsgiup ended without a line matching ${pattern}:\n${lines.join('\n')}`))
      })
    })
  const url = async () => {
    const line = await waitForLine(/^tsgiup: listening on /)
    return /listening on (\S+?),? /.exec(line)?.[1] ?? ''
  }
  return { child, lines, stdout: () => out, waitForLine, exited, url }
}

/** A fresh temp directory with `files` written into it. */
export async function tempApp(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsgiup-'))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

/** A response read whole. */
export interface Answer {
  readonly status: number
  readonly body: string
}

/** GET `url` (http://… or http+unix://…) on a new connection. */
export function get(url: string, path = '/'): Promise<Answer> {
  const target = new URL(url)
  const socketPath = target.protocol === 'http+unix:' ? decodeURIComponent(target.hostname) : undefined
  return new Promise((done, fail) => {
    const req = request(
      socketPath
        ? { socketPath, path, agent: false }
        : { host: target.hostname, port: target.port, path, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => done({ status: res.statusCode ?? 0, body }))
        res.on('error', fail)
      },
    )
    req.on('error', fail)
    req.end()
  })
}

/** Calls `attempt` until it returns a value other than undefined, or `deadline` ms pass. */
export async function poll<T>(attempt: () => Promise<T | undefined>, deadline = 15_000): Promise<T> {
  const end = Date.now() + deadline
  for (;;) {
    const value = await attempt().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error('condition not met before the deadline')
    await new Promise((r) => setTimeout(r, 25)) // the polling interval, not a wait for an event
  }
}
