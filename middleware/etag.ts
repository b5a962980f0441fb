/**
 * ETag — gives `200` responses an `ETag` when they lack one: for an array body, the SHA-1 of
 * its bytes; for a file body (made by `fileBody()`), the file's inode, modification time and
 * size from `fs.stat` (which of them is set by `fileEtag`). Other streams, an `fs.ReadStream`
 * included, and writers are never read to be hashed and get no `ETag`. Responses with
 * `Cache-Control: no-cache` are left alone. Tags are quoted (`"…"`) and weak (`W/"…"`) when
 * `weak` is set, or for a file modified within the last second (it may change again within the
 * same second without its mtime showing it).
 *
 * Env keys: none read or added.
 *
 * @example
 * builder(enable('ConditionalGET'), enable('ETag', { cacheControl: true }), app)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3 (RFC 9110 §8.8.3)
 * @see Plack::Middleware::ETag
 */
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { isFileBody } from '../src/body.js'
import { headerExists, headerGet, headerSet, isHeaderValue } from '../src/headers.js'
import { checkOptions, optionBoolean } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Chunk, FileBody, Middleware } from '../src/types.js'

/** A file attribute a file ETag is made of. */
export type FileEtagPart = 'inode' | 'mtime' | 'size'

/** Options of {@link etag}. */
export interface EtagOptions {
  /** The file attributes a file body's ETag is made of (always in the order inode, mtime, size). @default ['inode', 'mtime', 'size'] */
  readonly fileEtag?: FileEtagPart | readonly FileEtagPart[]
  /** Adds `Cache-Control` along with a new ETag when the response has none: `true` for `must-revalidate`, or the directives to send. @default false */
  readonly cacheControl?: boolean | string | readonly string[]
  /** Adds no ETag to a response that has `Last-Modified`. @default false */
  readonly checkLastModifiedHeader?: boolean
  /** Makes every generated ETag weak (`W/"…"`). @default false */
  readonly weak?: boolean
}

const NAME = 'ETag'
const FILE_PARTS: readonly FileEtagPart[] = ['inode', 'mtime', 'size']

/** Adds an ETag computed from the body (array bodies) or the file's attributes (file bodies). */
export function etag(options?: EtagOptions): Middleware {
  const opts = checkOptions(NAME, options, ['fileEtag', 'cacheControl', 'checkLastModifiedHeader', 'weak'])
  const fileParts = readFileEtag(opts.fileEtag)
  const cacheControl = readCacheControl(opts.cacheControl)
  const checkLastModified = optionBoolean(NAME, opts, 'checkLastModifiedHeader') ?? false
  const weak = optionBoolean(NAME, opts, 'weak') ?? false

  const finish = (headers: string[], tag: string | undefined, recent = false) => {
    if (tag === undefined) return
    headerSet(headers, 'ETag', weak || recent ? `W/"${tag}"` : `"${tag}"`)
    if (cacheControl !== undefined && !headerExists(headers, 'Cache-Control')) {
      headerSet(headers, 'Cache-Control', cacheControl)
    }
  }

  return (app) =>
    async function etag(env) {
      return responseCb(await app(env), (parts) => {
        const [status, headers, body] = parts
        if (status !== 200 || body === undefined || headerExists(headers, 'ETag')) return
        if (checkLastModified && headerExists(headers, 'Last-Modified')) return
        if (/(?:^|,)\s*no-cache\s*(?:[=,]|$)/i.test(headerGet(headers, 'Cache-Control') ?? '')) return
        if (Array.isArray(body)) return finish(headers, contentTag(body))
        if (!isFileBody(body)) return
        return fileTag(body, fileParts).then((found) => finish(headers, found?.[0], found?.[1]))
      })
    }
}

/** The hex SHA-1 of an array body's bytes. */
function contentTag(body: readonly Chunk[]): string {
  const hash = createHash('sha1')
  for (const chunk of body) hash.update(chunk)
  return hash.digest('hex')
}

/**
 * A file body's tag (the chosen attributes in hex, joined by `-`, then the byte range if it
 * has one) and whether the file changed within the last second; undefined when it cannot be stat'ed.
 */
async function fileTag(
  body: FileBody,
  parts: readonly FileEtagPart[],
): Promise<[string, boolean] | undefined> {
  let st: Awaited<ReturnType<typeof statBig>>
  try {
    st = await statBig(body.path)
  } catch {
    return undefined
  }
  if (!st.isFile()) return undefined
  const mtime = st.mtimeMs / 1000n
  const values = { inode: st.ino, mtime, size: st.size }
  const tag = parts.map((p) => values[p].toString(16))
  if (body.start !== undefined || body.end !== undefined) {
    tag.push(`${(body.start ?? 0).toString(16)}:${body.end === undefined ? '' : body.end.toString(16)}`)
  }
  const recent = mtime >= BigInt(Math.floor(Date.now() / 1000) - 1)
  return [tag.join('-'), recent]
}

function statBig(path: string) {
  return stat(path, { bigint: true })
}

function readFileEtag(value: unknown): readonly FileEtagPart[] {
  if (value === undefined) return FILE_PARTS
  const list: unknown[] = Array.isArray(value) ? value : [value]
  const ok = list.length > 0 && list.every((v) => FILE_PARTS.includes(v as FileEtagPart))
  if (!ok) {
    throw new TypeError(
      `${NAME}: option 'fileEtag' must be 'inode', 'mtime', 'size' or a non-empty array of them, got ${show(value)}`,
    )
  }
  return FILE_PARTS.filter((part) => list.includes(part))
}

function readCacheControl(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return 'must-revalidate'
  const list: unknown[] = Array.isArray(value) ? value : [value]
  const ok =
    list.length > 0 && list.every((v) => typeof v === 'string' && v.trim() !== '' && isHeaderValue(v))
  if (!ok) {
    throw new TypeError(
      `${NAME}: option 'cacheControl' must be a boolean, a directive string or a non-empty array of them, got ${show(value)}`,
    )
  }
  return (list as string[]).join(', ')
}

function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`
  if (typeof value === 'string') return `'${value}'`
  return value !== null && typeof value === 'object' ? 'an object' : String(value)
}
