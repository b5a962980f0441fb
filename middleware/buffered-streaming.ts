/**
 * BufferedStreaming — turns a delayed response into a finished one for callers that cannot
 * stream: the app sees `tsgi.streaming` true and may answer with a writer; every chunk it
 * writes is kept in memory, and when it closes the writer the caller gets
 * `[status, headers, chunks]`. A delayed response that responds with a triple yields that
 * triple. It applies when the caller's `tsgi.streaming` is false, or always with `force`.
 *
 * Memory: the whole body is held until the writer closes, and nothing reaches the client
 * before then; a long or endless stream (server-sent events, long polling) never completes
 * and grows without bound. Use it only for bounded responses.
 *
 * A WebSocket handshake (`tsgix.websocket` in env) is passed through: its `101` is answered
 * with a writer that closes only when the connection does.
 *
 * Env keys: reads and sets `tsgi.streaming` (true for the app); reads `tsgix.websocket`, `tsgix.signal` (an abort
 * rejects pending writes and the buffered response) and `tsgi.errors`.
 *
 * @example
 * builder(enable('BufferedStreaming', { force: true }), app)
 * @see Plack::Middleware::BufferedStreaming
 */
import { checkOptions, optionBoolean } from '../src/options.js'
import type { Chunk, Delayed, Env, Head, Middleware, Responder, Triple, Writer } from '../src/types.js'
import { isTriple } from '../src/types.js'

/** Options of {@link bufferedStreaming}. */
export interface BufferedStreamingOptions {
  /** Buffers even when the caller can stream (`tsgi.streaming` true, as on every TSGI server). @default false */
  readonly force?: boolean
}

const NAME = 'BufferedStreaming'

/** Buffers delayed and writer responses into a finished triple with an array body. */
export function bufferedStreaming(options?: BufferedStreamingOptions): Middleware {
  const opts = checkOptions(NAME, options, ['force'])
  const force = optionBoolean(NAME, opts, 'force') ?? false
  return (app) =>
    async function bufferedStreaming(env) {
      const callerStreams = env['tsgi.streaming']
      env['tsgi.streaming'] = true
      const res = await app(env)
      // a WebSocket handshake's 101 has no body to wait for: its writer closes with the connection
      if ((callerStreams && !force) || typeof res !== 'function' || env['tsgix.websocket'] !== undefined)
        return res
      return collect(res, env)
    }
}

/** Runs a delayed response and resolves with its triple once it responded or closed its writer. */
function collect(delayed: Delayed, env: Env): Promise<Triple> {
  const signal = env['tsgix.signal']
  return new Promise<Triple>((resolve, reject) => {
    let settled = false
    let responded = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const aborted = () => new Error(`${NAME}: request aborted (${String(signal?.reason)})`)
    const onAbort = () => settle(() => reject(aborted()))
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })

    const respond = ((res: Triple | Head): Writer | undefined => {
      if (responded) throw new Error(`${NAME}: the responder was called more than once`)
      responded = true
      if (isTriple(res)) {
        settle(() => resolve(res))
        return undefined
      }
      const chunks: Chunk[] = []
      let closed = false
      return {
        write(chunk) {
          if (signal?.aborted) return Promise.reject(aborted())
          if (closed) return Promise.reject(new Error(`${NAME}: write after close`))
          // The app may reuse its buffer once write resolves: keep a copy.
          chunks.push(typeof chunk === 'string' ? chunk : chunk.slice())
          return Promise.resolve()
        },
        close() {
          if (!closed) {
            closed = true
            settle(() => resolve([res[0], res[1], chunks]))
          }
          return Promise.resolve()
        },
      }
    }) as Responder

    Promise.resolve()
      .then(() => delayed(respond))
      .catch((err: unknown) => {
        if (!settled) settle(() => reject(err))
        else
          env['tsgi.errors'].write(`${NAME}: the delayed response failed after responding: ${String(err)}\n`)
      })
  })
}
