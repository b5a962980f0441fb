/**
 * AccessLog::Timed — AccessLog that writes its line once the response is over: after the body
 * was sent (or the request was aborted), with the bytes that went out and the time it took
 * (`%D` microseconds, `%T` seconds). Streamed bodies are counted chunk by chunk as they pass;
 * nothing is buffered. Where the server runs `tsgix.cleanup.handlers`, the line is written from
 * one, after the response is closed; elsewhere at the end of the body or when `tsgix.signal`
 * aborts. Either way, once per request.
 *
 * Env keys: reads what the format names, `tsgix.cleanup`, `tsgix.cleanup.handlers` (adds a
 * handler), `tsgix.signal` and `tsgi.errors` (the default logger); adds no key.
 *
 * @example
 * builder(enable('AccessLog::Timed', { format: '%h %l %u %t "%r" %>s %b %D' }), app)
 * @see https://httpd.apache.org/docs/current/mod/mod_log_config.html, Plack::Middleware::AccessLog::Timed
 */
import { stat } from 'node:fs/promises'
import { arrayBodyLength, chunkLength, discardBody, isFileBody } from '../src/body.js'
import { lengthPreserving, responseCb } from '../src/response-cb.js'
import { statusWithNoEntityBody } from '../src/status.js'
import type { Chunk, Env, FileBody, HeaderList, Middleware } from '../src/types.js'
import { type AccessLogOptions, accessLogSettings, declaredLength } from './access-log/options.js'

/** Options of {@link accessLogTimed}: the same as AccessLog's. */
export interface AccessLogTimedOptions extends AccessLogOptions {}

type Length = number | undefined | Promise<number | undefined>

/** The bytes a file body sends: its range clipped to the file's size. */
async function fileLength(body: FileBody): Promise<number | undefined> {
  try {
    const { size } = await stat(body.path)
    const start = body.start ?? 0
    const last = Math.min(body.end ?? size - 1, size - 1)
    return Math.max(0, last - start + 1)
  } catch {
    return undefined
  }
}

function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array
}

/** `body` as an iterable that reports each chunk's size, and its end (done, failed or returned). */
function counted(
  body: AsyncIterable<Chunk>,
  count: (n: number) => void,
  end: () => void,
): AsyncIterable<Chunk> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]()
      let started = false
      return {
        async next() {
          started = true
          try {
            const step = await it.next()
            if (step.done) end()
            else if (isChunk(step.value)) count(chunkLength(step.value))
            return step
          } catch (err) {
            end()
            throw err
          }
        },
        async return(value?: unknown) {
          end()
          // Closed unread: a node Readable's fresh iterator would not free the stream.
          if (!started) await discardBody(body)
          return it.return ? it.return(value) : { done: true as const, value }
        },
      }
    },
  }
}

function cleanupList(env: Env): unknown[] | undefined {
  const handlers = env['tsgix.cleanup.handlers']
  return env['tsgix.cleanup'] === true && Array.isArray(handlers) ? handlers : undefined
}

/** Logs each request once its response is over, with the bytes sent and the time taken. */
export function accessLogTimed(options: AccessLogTimedOptions = {}): Middleware {
  const { formatter, write, now, clockMs } = accessLogSettings('AccessLog::Timed', options)
  return (app) =>
    function accessLogTimed(env) {
      const start = now()
      const t0 = clockMs(start)
      let head: [number, HeaderList] | undefined
      let length: Length
      let bytes = 0
      let over = false
      let logged = false
      const emit = (status: number, headers: HeaderList, end: Date, n: number | undefined) => {
        const duration = (clockMs(end) - t0) * 1000
        write(env, `${formatter({ env, status, headers, length: n, duration, start, end })}\n`)
      }
      const finish = (): void | Promise<void> => {
        over = true
        if (logged || !head) return
        logged = true
        const end = now()
        const [status, headers] = head
        const n = length === undefined ? bytes : length
        if (n instanceof Promise) return n.then((v) => emit(status, headers, end, v))
        emit(status, headers, end, n)
      }
      const cleanup = cleanupList(env)
      if (cleanup) cleanup.push(finish)
      else env['tsgix.signal']?.addEventListener('abort', finish, { once: true })
      const atEnd = cleanup ? () => {} : finish
      const count = (n: number) => {
        bytes += n
      }
      return responseCb(app(env), (res) => {
        const [status, headers, body] = res
        head = [status, headers]
        const late = over ? finish : () => {}
        if (env.REQUEST_METHOD === 'HEAD' || statusWithNoEntityBody(status)) length = 0
        if (body === undefined) {
          late()
          return lengthPreserving((chunk) => {
            if (chunk === null) atEnd()
            else bytes += chunkLength(chunk)
            return chunk
          })
        }
        if (Array.isArray(body)) length ??= arrayBodyLength(body)
        else if (isFileBody(body)) length ??= declaredLength(headers) ?? fileLength(body)
        else if (length === undefined) res[2] = counted(body, count, atEnd)
        if (length !== undefined && !cleanup) finish()
        else late()
      })
    }
}
