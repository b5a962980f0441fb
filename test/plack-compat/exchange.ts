/**
 * The wire side of the Plack compatibility test: one request sent with a raw node:http client
 * (no agent, no keep-alive, no decoding), and the response normalised so that only what an app
 * and its middleware decide is compared.
 */
import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'
import type { CorpusRequest } from './corpus.js'

/** A response as read off the wire. */
export interface WireResponse {
  readonly status: number
  readonly reason: string
  /** Header names (lower-cased) and values in the order received. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer
}

/** A response reduced to what is compared. */
export interface Normalised {
  readonly status: number
  readonly reason: string
  /** Lower-cased name → values, names sorted, values of one name in the order received. */
  readonly headers: Readonly<Record<string, readonly string[]>>
  /** Header names in the order received, for requests whose order matters. */
  readonly order: readonly string[]
  /** The body, decoded from its content coding, as latin1 text (so any bytes compare). */
  readonly body: string
}

/** Sends one corpus request to 127.0.0.1:port and reads the whole response. */
export function send(port: number, req: CorpusRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'GET',
        path: req.path,
        headers: req.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const headers: [string, string][] = []
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
          }
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers,
            body: Buffer.concat(chunks),
          })
        })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(req.body)
  })
}

/** Headers the servers choose, never the app: left out of every comparison. */
const SERVER_HEADERS = new Set(['date', 'server', 'connection', 'keep-alive'])

function decode(coding: string | undefined, body: Buffer): Buffer {
  if (body.length === 0 || coding === undefined) return body
  if (coding === 'gzip') return gunzipSync(body)
  if (coding === 'br') return brotliDecompressSync(body)
  if (coding === 'deflate') {
    // RFC 9110 deflate is zlib-wrapped; accept a raw stream too, as some encoders send one.
    try {
      return inflateSync(body)
    } catch {
      return inflateRawSync(body)
    }
  }
  return body
}

/**
 * Normalises one response, given the other side's: drops server headers, checks that an
 * `X-Runtime` is a number of seconds and hides its value, decodes the body, and removes framing
 * (`Content-Length`, `Transfer-Encoding`) that a server added where the other side's server
 * framed by closing the connection, or that a content coding changed.
 */
export function normalise(res: WireResponse, other: WireResponse): Normalised {
  const has = (r: WireResponse, name: string): boolean => r.headers.some(([n]) => n === name)
  const unframed = (r: WireResponse): boolean => !has(r, 'content-length') && !has(r, 'transfer-encoding')
  const coded = has(res, 'content-encoding') && has(other, 'content-encoding')
  const dropFraming = coded || unframed(res) || unframed(other)
  const headers: Record<string, string[]> = {}
  const order: string[] = []
  for (const [name, value] of res.headers) {
    if (SERVER_HEADERS.has(name)) continue
    if (dropFraming && (name === 'content-length' || name === 'transfer-encoding')) continue
    order.push(name)
    const shown =
      name === 'x-runtime' ? (/^\d+\.\d+$/.test(value) ? '(seconds)' : `(not seconds: ${value})`) : value
    headers[name] ??= []
    headers[name].push(shown)
  }
  const sorted: Record<string, string[]> = {}
  for (const name of Object.keys(headers).sort()) sorted[name] = headers[name]!
  const coding = res.headers.find(([n]) => n === 'content-encoding')?.[1]
  return {
    status: res.status,
    reason: res.reason,
    headers: sorted,
    order,
    body: decode(coding, res.body).toString('latin1'),
  }
}

/** A comparable field of a normalised response: `status`, `reason`, `body` or `header <name>`. */
export type Field = 'status' | 'reason' | 'body' | `header ${string}`

/** The value of a field, as a string; undefined for an absent header. Several values join with '\n'. */
export function fieldValue(res: Normalised, field: Field): string | undefined {
  if (field === 'status') return String(res.status)
  if (field === 'reason') return res.reason
  if (field === 'body') return res.body
  return res.headers[field.slice('header '.length)]?.join('\n')
}

/** Every field of both responses. */
export function fields(a: Normalised, b: Normalised): Field[] {
  const names = new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])
  return ['status', 'reason', 'body', ...[...names].sort().map((n): Field => `header ${n}`)]
}
