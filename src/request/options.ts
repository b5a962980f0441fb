/**
 * Options of {@link TsgiRequest}: the limits applied when the request body is read.
 * Validated once, when the request object is built; a bad value throws a TypeError naming it.
 */

/** Limits on reading the request body. */
export interface TsgiRequestOptions {
  /**
   * Largest body read whole (urlencoded, JSON, text, bytes), and the most bytes of text field
   * values, all together, in a multipart body. Past it the read fails with HttpError 413.
   * @default 1048576 (1 MiB)
   */
  readonly maxBodySize?: number
  /**
   * Largest single uploaded file in a multipart body, in bytes (413 past it).
   * @default 104857600 (100 MiB)
   */
  readonly maxFileSize?: number
  /**
   * Most files in one multipart body (413 past it).
   * @default 100
   */
  readonly maxFiles?: number
  /**
   * Most non-file fields in one multipart body (413 past it).
   * @default 1000
   */
  readonly maxFields?: number
  /**
   * Largest multipart body as a whole (files, fields and framing), in bytes (413 past it).
   * @default 268435456 (256 MiB), or maxFileSize + maxBodySize when that is larger
   */
  readonly maxMultipartSize?: number
}

/** The options with every default filled in. */
export type BodyLimits = Required<TsgiRequestOptions>

export const DEFAULT_LIMITS: BodyLimits = Object.freeze({
  maxBodySize: 1024 * 1024,
  maxFileSize: 100 * 1024 * 1024,
  maxFiles: 100,
  maxFields: 1000,
  maxMultipartSize: 256 * 1024 * 1024,
})

const KEYS = Object.keys(DEFAULT_LIMITS) as (keyof BodyLimits)[]

/** Fills defaults and checks every option; throws a TypeError naming a bad one. */
export function resolveLimits(options: TsgiRequestOptions | undefined): BodyLimits {
  if (options === undefined) return DEFAULT_LIMITS
  if (options === null || typeof options !== 'object') {
    throw new TypeError('TsgiRequest: options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!(KEYS as string[]).includes(key)) throw new TypeError(`TsgiRequest: unknown option ${key}`)
  }
  const out = { ...DEFAULT_LIMITS }
  for (const key of KEYS) {
    const value: unknown = options[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`TsgiRequest: option ${key} must be a non-negative integer, got ${String(value)}`)
    }
    out[key] = value
  }
  if (options.maxMultipartSize === undefined) {
    out.maxMultipartSize = Math.max(DEFAULT_LIMITS.maxMultipartSize, out.maxFileSize + out.maxBodySize)
  }
  return out
}
