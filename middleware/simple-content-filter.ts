/**
 * SimpleContentFilter — passes the text of `text/*` responses through `filter`, chunk by
 * chunk, as it streams. Bytes are decoded as UTF-8 in stream mode, so a character split
 * across two chunks reaches the filter whole; with another `charset` the filter sees each
 * byte as one Latin-1 character and its result is encoded back the same way, so the bytes it
 * does not change stay as they were. `Content-Length` is removed, as the length may change.
 * The filter sees one chunk at a time: a pattern that spans two chunks is not matched.
 *
 * Env keys: none read or added.
 *
 * @example
 * builder(enable('SimpleContentFilter', { filter: (text) => text.replaceAll('Foo', 'Bar') }), app)
 * @see Plack::Middleware::SimpleContentFilter
 */
import { toBytes } from '../src/body.js'
import { headerGet } from '../src/headers.js'
import { checkOptions, optionFunction } from '../src/options.js'
import { type BodyFilter, responseCb } from '../src/response-cb.js'
import type { Chunk, Middleware } from '../src/types.js'

/** Options of {@link simpleContentFilter}. */
export interface SimpleContentFilterOptions {
  /** Called with the text of each chunk of a `text/*` response; returns the text to send instead. */
  readonly filter: (chunk: string) => string
}

const NAME = 'SimpleContentFilter'
const TEXT = /^\s*text\//i
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i
const UTF8 = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii'])

/** Filters the text of `text/*` responses through `options.filter`. */
export function simpleContentFilter(options: SimpleContentFilterOptions): Middleware {
  const opts = checkOptions(NAME, options, ['filter'])
  const filter = optionFunction<(chunk: string) => string>(NAME, opts, 'filter', { required: true })

  const apply = (text: string): string => {
    const out = filter(text)
    if (typeof out !== 'string')
      throw new TypeError(`${NAME}: option 'filter' returned ${typeof out}, not a string`)
    return out
  }

  return (app) =>
    async function simpleContentFilter(env) {
      return responseCb(await app(env), (parts) => {
        const type = headerGet(parts[1], 'Content-Type')
        if (type === undefined || !TEXT.test(type)) return
        const charset = CHARSET.exec(type)?.[1]?.toLowerCase()
        return charset === undefined || UTF8.has(charset) ? utf8Filter(apply) : latin1Filter(apply)
      })
    }
}

/** A body filter decoding UTF-8 across chunk boundaries; the text goes out as a string. */
function utf8Filter(apply: (text: string) => string): BodyFilter {
  // ignoreBOM: a byte order mark is content here, passed on like any other character.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  return (chunk: Chunk | null) => {
    const text = chunk === null ? decoder.decode() : decoder.decode(toBytes(chunk), { stream: true })
    return text === '' ? null : apply(text)
  }
}

/** A body filter mapping each byte to one character and back, for charsets other than UTF-8. */
function latin1Filter(apply: (text: string) => string): BodyFilter {
  return (chunk: Chunk | null) => {
    if (chunk === null) return null
    const bytes = toBytes(chunk)
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
    return text === '' ? null : Buffer.from(apply(text), 'latin1')
  }
}
