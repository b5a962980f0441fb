/**
 * The options shared by the File app, the Directory app and the Static middleware, and their
 * validation into a {@link FileConfig} once, when the component is built.
 */
import { resolve } from 'node:path'
import { type OptionBag, optionBoolean, optionString } from '../../options.js'

/** A content coding the File app can serve from a precompressed sibling file. */
export type PrecompressedEncoding = 'br' | 'gzip'

/** Options of the file-serving core (File, Directory, Static). */
export interface FileServeOptions {
  /** Content-Type for every file: a string, or a function of the file's path that returns one. @default looked up by extension (mime-types), else 'text/plain' */
  readonly contentType?: string | ((path: string) => string)
  /** The charset added to text types (`text/*` and types mime-db marks with a charset). @default 'utf-8' */
  readonly encoding?: string
  /**
   * Serve `file.br` / `file.gz` beside `file` to clients that accept that coding. `true` means
   * `['br', 'gzip']`; an array gives the codings and the server's preference order.
   * @default false
   */
  readonly precompressed?: boolean | readonly PrecompressedEncoding[]
  /** Send a strong `ETag` made of the file's size and modification time. @default false */
  readonly etag?: boolean
}

/** The resolved form of {@link FileServeOptions}. */
export interface FileConfig {
  readonly contentType: string | ((path: string) => string) | undefined
  readonly encoding: string
  readonly precompressed: readonly PrecompressedEncoding[]
  readonly etag: boolean
}

/** The option keys of {@link FileServeOptions}. */
export const FILE_SERVE_KEYS = ['contentType', 'encoding', 'precompressed', 'etag'] as const

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/
const CODINGS: readonly PrecompressedEncoding[] = ['br', 'gzip']

/** Reads `root` (a string, resolved to an absolute path). */
export function optionRoot(
  component: string,
  opts: OptionBag,
  fallback: string | undefined,
): string | undefined {
  const root = optionString(component, opts, 'root') ?? fallback
  if (root === undefined) return undefined
  if (root === '') throw new TypeError(`${component}: option 'root' must not be empty`)
  return resolve(root)
}

/** Validates the shared file-serving options. */
export function fileConfig(component: string, opts: OptionBag): FileConfig {
  const contentType = opts.contentType
  if (contentType !== undefined && typeof contentType !== 'function') {
    if (typeof contentType !== 'string' || !MEDIA_TYPE.test(contentType) || /[\r\n\0]/.test(contentType)) {
      throw new TypeError(`${component}: option 'contentType' must be a media type string or a function`)
    }
  }
  const encoding = optionString(component, opts, 'encoding') ?? 'utf-8'
  if (!TOKEN.test(encoding)) {
    throw new TypeError(`${component}: option 'encoding' must be a charset name (a token), got '${encoding}'`)
  }
  return {
    contentType: contentType as FileConfig['contentType'],
    encoding,
    precompressed: precompressedOption(component, opts.precompressed),
    etag: optionBoolean(component, opts, 'etag') ?? false,
  }
}

function precompressedOption(component: string, value: unknown): readonly PrecompressedEncoding[] {
  if (value === undefined || value === false) return []
  if (value === true) return CODINGS
  const bad = `${component}: option 'precompressed' must be a boolean or an array of 'br' and 'gzip'`
  if (!Array.isArray(value)) throw new TypeError(bad)
  const out: PrecompressedEncoding[] = []
  for (const item of value) {
    if (!CODINGS.includes(item) || out.includes(item)) throw new TypeError(bad)
    out.push(item)
  }
  return out
}
