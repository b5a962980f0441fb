/**
 * The compression side of Deflater: which media types are worth compressing (mime-db's
 * `compressible` flags, with the `text/*`, `+json`, `+text` and `+xml` fallbacks of the
 * `compressible` package, written here to avoid a dependency for twelve lines), one-shot
 * compression of whole buffers, and a body filter backed by a node zlib stream.
 */
import { once } from 'node:events'
import { createRequire } from 'node:module'
import zlib from 'node:zlib'
import { toBytes } from '../../src/body.js'
import type { BodyFilter } from '../../src/response-cb.js'
import type { Chunk } from '../../src/types.js'

/** A content coding Deflater can produce. */
export type Coding = 'br' | 'gzip' | 'deflate'

/** Every coding, in the default order of preference. */
export const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate']

/** Compression settings. */
export interface CodecSettings {
  /** zlib level (gzip, deflate), -1 to 9. */
  readonly level: number
  /** Brotli quality, 0 to 11. */
  readonly quality: number
}

interface MimeEntry {
  compressible?: boolean
}

let mimeDb: Readonly<Record<string, MimeEntry | undefined>> | undefined

/** mime-db, resolved through mime-types (whose dependency it is), loaded on first use. */
function db(): Readonly<Record<string, MimeEntry | undefined>> {
  if (!mimeDb) {
    const fromHere = createRequire(import.meta.url)
    const loaded: unknown = createRequire(fromHere.resolve('mime-types'))('mime-db')
    mimeDb = loaded !== null && typeof loaded === 'object' ? (loaded as Record<string, MimeEntry>) : {}
  }
  return mimeDb
}

const COMPRESSIBLE_FALLBACK = /^text\/|\+(?:json|text|xml)$/

/** True when the (lower-case, parameter-free) media type is worth compressing. */
export function isCompressible(type: string): boolean {
  const flag = db()[type]?.compressible
  return flag ?? COMPRESSIBLE_FALLBACK.test(type)
}

function zlibOptions(settings: CodecSettings): zlib.ZlibOptions {
  return { level: settings.level }
}

function brotliOptions(settings: CodecSettings, size?: number): zlib.BrotliOptions {
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: settings.quality }
  if (size !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = size
  return { params }
}

/** Compresses a whole buffer at once. */
export function compressSync(coding: Coding, data: Buffer, settings: CodecSettings): Buffer {
  if (coding === 'br') return zlib.brotliCompressSync(data, brotliOptions(settings, data.byteLength))
  if (coding === 'gzip') return zlib.gzipSync(data, zlibOptions(settings))
  return zlib.deflateSync(data, zlibOptions(settings))
}

function createCompressor(
  coding: Coding,
  settings: CodecSettings,
): zlib.Gzip | zlib.Deflate | zlib.BrotliCompress {
  if (coding === 'br') return zlib.createBrotliCompress(brotliOptions(settings))
  if (coding === 'gzip') return zlib.createGzip(zlibOptions(settings))
  return zlib.createDeflate(zlibOptions(settings))
}

/**
 * A body filter that feeds each chunk to a zlib stream and returns the compressed bytes that
 * came out so far (nothing while zlib holds them back, unless `flush` asks for a sync flush
 * after every chunk); at the end it finishes the stream and returns the rest. Each chunk is
 * awaited until zlib has consumed it, which carries backpressure to the producer. The stream
 * is made on the first call, so a body that is never read (HEAD, a replaced body) costs no
 * compressor; it is destroyed when `signal` aborts.
 */
export function compressorFilter(
  coding: Coding,
  settings: CodecSettings,
  flush: boolean,
  signal?: AbortSignal,
): BodyFilter {
  const flushKind = coding === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH
  let out: Buffer[] = []
  let failure: unknown
  let made: ReturnType<typeof createCompressor> | undefined
  const onAbort = () => made?.destroy()
  const compressor = () => {
    if (made) return made
    const stream = createCompressor(coding, settings)
    stream.on('data', (data: Buffer) => out.push(data))
    stream.on('error', (err) => {
      failure = err
    })
    signal?.addEventListener('abort', onAbort, { once: true })
    made = stream
    return stream
  }

  const take = (): Buffer | undefined => {
    if (failure !== undefined) throw failure
    if (out.length === 0) return undefined
    const data = out.length === 1 ? out[0]! : Buffer.concat(out)
    out = []
    return data
  }
  const step = (
    stream: ReturnType<typeof createCompressor>,
    run: (done: (err?: Error | null) => void) => void,
  ) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err)
      stream.once('error', onError)
      run((err) => {
        stream.off('error', onError)
        if (err) reject(err)
        else resolve()
      })
    })

  return async function compress(chunk: Chunk | null): Promise<Buffer | undefined> {
    const stream = compressor()
    if (chunk === null) {
      const ended = once(stream, 'end')
      stream.end()
      await ended
      signal?.removeEventListener('abort', onAbort)
      return take()
    }
    const bytes = toBytes(chunk)
    if (bytes.byteLength > 0) await step(stream, (done) => stream.write(bytes, done))
    if (flush) await step(stream, (done) => stream.flush(flushKind, () => done()))
    return take()
  }
}
