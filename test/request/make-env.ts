/**
 * Builds TSGI env objects by hand for request tests: every required key, a Readable as
 * `tsgi.input`, and Content-Length filled in from the body unless given.
 */
import { Readable } from 'node:stream'
import type { Env } from '../../src/types.js'

export type EnvExtra = Partial<Env> & Record<string, unknown>

/** The body as a list of byte chunks (strings as UTF-8). */
function chunksOf(body: string | Uint8Array | readonly Uint8Array[] | undefined): Uint8Array[] {
  if (body === undefined) return []
  if (typeof body === 'string') return [Buffer.from(body)]
  if (body instanceof Uint8Array) return [body]
  return [...body]
}

export function makeEnv(extra: EnvExtra = {}, body?: string | Uint8Array | readonly Uint8Array[]): Env {
  const chunks = chunksOf(body)
  const env: Env = {
    REQUEST_METHOD: body === undefined ? 'GET' : 'POST',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    REQUEST_URI: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': Readable.from(chunks),
    'tsgi.errors': { write: () => true },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
  }
  if (body !== undefined) env.CONTENT_LENGTH = String(chunks.reduce((n, c) => n + c.byteLength, 0))
  return Object.assign(env, extra)
}

/** Reads an input stream whole. */
export async function drain(input: AsyncIterable<Uint8Array | string>): Promise<string> {
  const parts: Buffer[] = []
  for await (const chunk of input) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts).toString('utf8')
}
