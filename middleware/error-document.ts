/**
 * ErrorDocument — replaces the body of error responses (4xx, 5xx) with a document of your own:
 * a file, or the response of a subrequest to the same app. The status stays the app's.
 *
 * Files are sent with a content type from their extension (`charset=utf-8` for text) and the
 * original body's `Content-Length`, `Content-Encoding`, `Transfer-Encoding`, `Content-Range`,
 * `ETag` and `Last-Modified` dropped. A subrequest is a GET for the configured path on the
 * wrapped app, with the original request kept in `tsgix.errordocument.*`; its body is used when
 * it answers 200. Writer responses work too: the app's chunks are dropped and the document sent.
 *
 * Env keys: adds, in the subrequest's env only, `tsgix.errordocument.<KEY>` for every CGI and
 * `HTTP_*` key of the original request (`tsgix.errordocument.PATH_INFO` …).
 *
 * @example
 * builder(enable('ErrorDocument', { 404: 'public/404.html', 500: 'public/500.html' }), app)
 * @example
 * builder(enable('ErrorDocument', { 404: '/errors/404', subrequest: true }), app)
 * @see RFC 9110 §15.5, §15.6, Plack::Middleware::ErrorDocument
 */
import { statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { contentType, lookup } from 'mime-types'
import { discardBody, fileBody, readBody } from '../src/body.js'
import { headerRemove, headerSet } from '../src/headers.js'
import { checkOptions, optionBoolean, optionString } from '../src/options.js'
import { type ResponseParts, responseCb } from '../src/response-cb.js'
import type { App, Body, Env, Middleware } from '../src/types.js'
import { runSubrequest } from './error-document/subrequest.js'

/** Options of {@link errorDocument}: a document per error status, and the mode. */
export interface ErrorDocumentOptions {
  /**
   * Per error status (400–599): a file path (resolved against the working directory when the
   * middleware is built), or with `subrequest` a path on the wrapped app.
   */
  readonly [status: number]: string
  /** Treat the paths as app paths to fetch with a GET subrequest rather than files. @default false */
  readonly subrequest?: boolean
}

/** A configured document: an app path (subrequest) or a file and its content type. */
interface Doc {
  readonly path: string
  readonly type: string
}

const NAME = 'ErrorDocument'
const DROP = [
  'Content-Length',
  'Content-Encoding',
  'Transfer-Encoding',
  'Content-Range',
  'ETag',
  'Last-Modified',
]

/** Replaces error responses' bodies with configured documents. */
export function errorDocument(options: ErrorDocumentOptions): Middleware {
  const opts = checkOptions(NAME, options, Object.keys(options ?? {}))
  const subrequest = optionBoolean(NAME, opts, 'subrequest') ?? false
  const documents = new Map<number, Doc>()
  for (const key of Object.keys(opts)) {
    if (key === 'subrequest') continue
    if (!/^[45]\d\d$/.test(key)) {
      throw new TypeError(
        `${NAME}: unknown option '${key}' (expected an error status from 400 to 599, or subrequest)`,
      )
    }
    const doc = optionString(NAME, opts, key, { required: true })
    if (doc === '') throw new TypeError(`${NAME}: option '${key}' must be a non-empty path`)
    if (subrequest && !doc.startsWith('/')) {
      throw new TypeError(
        `${NAME}: option '${key}' must be an app path starting with '/' when subrequest is true`,
      )
    }
    const path = subrequest ? doc : checkFile(key, doc)
    documents.set(Number(key), { path, type: subrequest ? '' : typeOf(path) })
  }

  return (app) =>
    function errorDocument(env) {
      return responseCb(app(env), (res) => {
        const doc = documents.get(res[0])
        if (doc === undefined) return
        return subrequest ? fromSubrequest(app, env, doc.path, res) : fromFile(env, doc, res)
      })
    }
}

function checkFile(key: string, path: string): string {
  const full = resolve(path)
  let ok = false
  try {
    ok = statSync(full).isFile()
  } catch {}
  if (!ok) throw new TypeError(`${NAME}: option '${key}': ${full} is not a readable file`)
  return full
}

function typeOf(path: string): string {
  const type = lookup(path)
  return (type && contentType(type)) || 'application/octet-stream'
}

async function fromFile(env: Env, { path, type }: Doc, res: ResponseParts) {
  const { size } = await stat(path)
  for (const name of DROP) headerRemove(res[1], name)
  headerSet(res[1], 'Content-Type', type)
  if (res.length >= 3) {
    discard(env, res[2])
    headerSet(res[1], 'Content-Length', String(size))
    res[2] = fileBody(path)
    return undefined
  }
  return swallow(() => readFile(path))
}

async function fromSubrequest(app: App, env: Env, path: string, res: ResponseParts) {
  const sub = await runSubrequest(app, env, path)
  if (sub === undefined) return undefined
  if (sub[0] !== 200) {
    discard(env, sub[2])
    return undefined
  }
  res[1].length = 0
  res[1].push(...sub[1])
  if (res.length >= 3) {
    discard(env, res[2])
    res[2] = sub[2]
    return undefined
  }
  headerRemove(res[1], 'Content-Length')
  return swallow(() => readBody(sub[2]))
}

/** A body filter for a writer response: drops the app's chunks, sends `doc()` at the end. */
function swallow(doc: () => Promise<Uint8Array>) {
  return async (chunk: unknown) => (chunk === null ? doc() : undefined)
}

/** Frees a body that will not be sent (a node Readable destroyed, a web stream cancelled). */
function discard(env: Env, body: Body | undefined): void {
  void discardBody(body, (err) => {
    env['tsgi.errors'].write(`${NAME}: closing the replaced body failed: ${String(err)}\n`)
  })
}
