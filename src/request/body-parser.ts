/**
 * Parses the request body into parameters and uploads, once per env: urlencoded bodies are read
 * whole (under `maxBodySize`) and parsed leniently; multipart bodies are streamed (files to
 * temporary files). Any other media type has no body parameters, as in Plack. Results are cached
 * in env so several readers share them.
 *
 * Env keys written: `tsgix.request.body_parameters`, `tsgix.request.uploads` (and those of
 * raw-body.ts and multipart.ts).
 */
import type { Env } from '../types.js'
import { MultiMap } from './multi-map.js'
import { parseMultipart } from './multipart.js'
import type { BodyLimits } from './options.js'
import { parseFormEncoded } from './query.js'
import { exclusive, readRawBodyLocked } from './raw-body.js'
import type { TsgiUpload } from './upload.js'

declare module '../types.js' {
  interface Env {
    /** Parameters of the request body (urlencoded or multipart), once parsed. */
    'tsgix.request.body_parameters'?: MultiMap<string>
    /** Files of a multipart request body, once parsed. */
    'tsgix.request.uploads'?: MultiMap<TsgiUpload>
  }
}

const utf8 = new TextDecoder('utf-8')

/** The media type of a Content-Type value, lower-cased, without parameters (`''` when absent). */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

async function parseLocked(env: Env, limits: BodyLimits): Promise<void> {
  if (env['tsgix.request.body_parameters'] !== undefined) return
  const type = mediaType(env.CONTENT_TYPE)
  let fields = new MultiMap<string>()
  let uploads = new MultiMap<TsgiUpload>()
  if (type === 'application/x-www-form-urlencoded') {
    fields = parseFormEncoded(utf8.decode(await readRawBodyLocked(env, limits.maxBodySize)))
  } else if (type === 'multipart/form-data') {
    ;({ fields, uploads } = await parseMultipart(env, limits))
  }
  env['tsgix.request.body_parameters'] = fields
  env['tsgix.request.uploads'] = uploads
}

/** Parses the body when not done yet; resolves when both caches are filled. */
export async function parseBody(env: Env, limits: BodyLimits): Promise<void> {
  if (env['tsgix.request.body_parameters'] !== undefined && env['tsgix.request.uploads'] !== undefined) return
  await exclusive(env, () => parseLocked(env, limits))
}
