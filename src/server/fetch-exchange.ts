/**
 * One request's lifecycle in the fetch adapter: owns `tsgix.signal`, knows whether the
 * response completed or was cut short, and runs `tsgix.cleanup.handlers` exactly once after
 * either outcome (through the runtime's `waitUntil` when it has one).
 */
import type { AbortReason, Env, ErrorStream } from '../types.js'
import type { FetchInfo } from './fetch-env.js'

/** Writes `message` and the error's stack (or its string form) to `errors`, never throwing. */
export function logError(errors: ErrorStream, message: string, err?: unknown): void {
  const detail =
    err === undefined ? '' : `: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`
  try {
    errors.write(`tsgi: ${message}${detail}\n`)
  } catch {
    // An error stream that throws has nowhere left to report to.
  }
}

/** The lifecycle of one request/response pair. */
export class Exchange {
  readonly #controller = new AbortController()
  readonly #info: FetchInfo
  readonly #requestSignal: AbortSignal
  readonly #stops: ((reason: AbortReason) => void)[] = []
  #env: Env | undefined
  #finished = false
  readonly #onClientAbort = (): void => this.abort('client-disconnected')

  constructor(request: globalThis.Request, info: FetchInfo) {
    this.#info = info
    this.#requestSignal = request.signal
  }

  /** `tsgix.signal`. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Starts the lifecycle once the env is built; the client may already have gone by then. */
  attach(env: Env): void {
    this.#env = env
    const sources = this.#sources()
    if (sources.some((s) => s.aborted)) {
      this.abort('client-disconnected')
      return
    }
    for (const s of sources) s.addEventListener('abort', this.#onClientAbort, { once: true })
  }

  /** Registers what to stop when the response is cut short; runs it now if it already was. */
  onAbort(stop: (reason: AbortReason) => void): void {
    const reason = this.#controller.signal.reason as AbortReason | undefined
    if (this.#controller.signal.aborted && reason !== undefined) stop(reason)
    else if (!this.#finished) this.#stops.push(stop)
  }

  /** The response went out whole: the signal never aborts from now on. */
  complete(): void {
    if (this.#finished) return
    this.#finished = true
    this.#stops.length = 0
    this.#cleanup()
  }

  /** The response was cut short: aborts `tsgix.signal` with `reason` unless it already completed. */
  abort(reason: AbortReason): void {
    if (this.#finished) return
    this.#finished = true
    this.#controller.abort(reason)
    for (const stop of this.#stops.splice(0)) stop(reason)
    this.#cleanup()
  }

  #sources(): AbortSignal[] {
    const info = this.#info.signal
    return info === undefined || info === this.#requestSignal
      ? [this.#requestSignal]
      : [info, this.#requestSignal]
  }

  #cleanup(): void {
    for (const s of this.#sources()) s.removeEventListener('abort', this.#onClientAbort)
    const env = this.#env
    if (env === undefined) return
    const handlers = env['tsgix.cleanup.handlers'] ?? []
    if (handlers.length === 0) return
    const run = (async () => {
      for (const handler of handlers) {
        try {
          await handler(env)
        } catch (err) {
          logError(env['tsgi.errors'], 'cleanup handler failed', err)
        }
      }
    })()
    if (this.#info.waitUntil) this.#info.waitUntil(run)
  }
}
