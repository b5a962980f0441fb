/**
 * HttpError: an application failure that carries an HTTP status. The HTTPExceptions
 * middleware turns it into a response; the servers answer it with its status as a last resort.
 *
 * @example throw new HttpError(404)
 * @example throw new HttpError(302, undefined, { headers: ['Location', '/login'] })
 */
import { statusText } from './status.js'
import type { HeaderList } from './types.js'

export interface HttpErrorOptions {
  /** Extra response headers, a flat list (`Location` for a redirect, say). */
  readonly headers?: HeaderList
  /** The underlying error. */
  readonly cause?: unknown
  /** True when the message may be shown to the client; defaults to true below 500. */
  readonly expose?: boolean
}

export class HttpError extends Error {
  readonly status: number
  readonly headers: HeaderList
  readonly expose: boolean

  constructor(status: number, message?: string, options: HttpErrorOptions = {}) {
    if (!Number.isInteger(status) || status < 300 || status > 599) {
      throw new TypeError(`HttpError: status must be an integer from 300 to 599, got ${status}`)
    }
    super(message ?? statusText(status), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HttpError'
    this.status = status
    this.headers = options.headers ? [...options.headers] : []
    this.expose = options.expose ?? status < 500
  }
}

/** True for an HttpError or any error-like object with an integer `status` (or `code`) from 300 to 599. */
export function errorStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined
  const status = (err as { status?: unknown }).status
  if (typeof status === 'number' && Number.isInteger(status) && status >= 300 && status < 600) return status
  return undefined
}
