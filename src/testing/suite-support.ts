/**
 * What the server conformance cases share: the case shape, a board on which an app posts what
 * it saw after the response (cleanup handlers, `finally` blocks) for the check to await, and
 * small readers for request and response bodies.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App, Env, Triple } from '../types.js'
import type { TestContext, TestFetch } from './harness.js'

/** The protocol a conformance run speaks to the server: HTTP/1.1 or HTTP/2. */
export type SuiteProtocol = 'http1' | 'http2'

/** What a check gets beside `fetch`: the harness's context and the protocol of the run. */
export interface SuiteCheckContext extends TestContext {
  readonly protocol: SuiteProtocol
}

/** One conformance case: an app and the check that drives it. */
export interface SuiteCase {
  readonly name: string
  /**
   * The protocols the case makes sense on, when it tests something only they have (a reason
   * phrase in the status line, say); absent means every protocol. A run over another protocol
   * leaves the case out, on every server alike.
   */
  readonly protocols?: readonly SuiteProtocol[]
  readonly app: App
  check(fetch: TestFetch, ctx: SuiteCheckContext): Promise<void>
}

/** The request header that carries a board token from a check to its app. */
export const TOKEN_HEADER = 'x-tsgi-suite-token'

const board = new Map<string, { resolve(value: unknown): void; promise: Promise<unknown> }>()

/** A fresh token, and a promise of what the app will post under it. */
export function expectPost(): { token: string; posted: Promise<unknown> } {
  const token = randomUUID()
  let resolve: (value: unknown) => void = () => {}
  const promise = new Promise<unknown>((r) => {
    resolve = r
  })
  board.set(token, {
    resolve: (value) => {
      board.delete(token)
      resolve(value)
    },
    promise,
  })
  return { token, posted: promise }
}

/** Posts `value` under the token the request carries. */
export function post(env: Env, value: unknown): void {
  const token = env.HTTP_X_TSGI_SUITE_TOKEN
  if (typeof token === 'string') board.get(token)?.resolve(value)
}

/** A value handed from a check to its app under a token (a temp file's path, say). */
const handed = new Map<string, unknown>()

/** Hands `value` to the app of the request that carries `token`. */
export function hand(token: string, value: unknown): void {
  handed.set(token, value)
}

/** What the check handed to this request's app. */
export function received(env: Env): unknown {
  const token = env.HTTP_X_TSGI_SUITE_TOKEN
  return typeof token === 'string' ? handed.get(token) : undefined
}

/** Reads `tsgi.input` whole. */
export async function readInput(env: Env): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of env['tsgi.input']) parts.push(chunk)
  return Buffer.concat(parts)
}

/** A text/plain triple. */
export function text(body: string, status = 200, headers: string[] = []): Triple {
  return [status, ['Content-Type', 'text/plain', ...headers], [body]]
}

/** A response body as bytes. */
export async function bytes(res: globalThis.Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer())
}

/** The SHA-256 of `data`, hex. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Deterministic, non-repeating-looking bytes. */
export function pattern(length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 9)) & 0xff
  return out
}

/** Runs `fn` with a temp file holding `data`, removing it afterwards. */
export async function withTempFile<T>(data: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tsgi-suite-'))
  const path = join(dir, 'body.bin')
  await writeFile(path, data)
  try {
    return await fn(path)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A promise that settles when `signal` aborts (never, without a signal). */
export function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return
    if (signal.aborted) return resolve()
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** An app that answers with env[key] as text. */
export function echoKey(key: string): App {
  return (env) => text(String(env[key] ?? ''))
}

/** Posts the signal's reason from a cleanup handler. */
export function postReason(env: Env): void {
  env['tsgix.cleanup.handlers']?.push((e) => post(e, e['tsgix.signal']?.reason))
}

export type PathFetch = (path: string, init?: RequestInit) => Promise<globalThis.Response>

/** Fetches `path` with a fresh board token; gives the response and what the app posts. */
export async function tokened(
  fetch: PathFetch,
  path: string,
  init: RequestInit = {},
): Promise<{ res: globalThis.Response; posted: Promise<unknown> }> {
  const { token, posted } = expectPost()
  const res = await fetch(path, { ...init, headers: { [TOKEN_HEADER]: token } })
  return { res, posted }
}
