/**
 * Streams a `multipart/form-data` body through busboy: text fields are collected, file parts are
 * written to temporary files (never held in memory) in a per-request directory made with
 * `fs.mkdtemp` under `os.tmpdir()`. The directory is removed by {@link removeUploads}, which is
 * also pushed on `tsgix.cleanup.handlers` when the server provides them.
 *
 * Limits (see TsgiRequestOptions): `maxFileSize` per file, `maxFiles`, `maxFields`,
 * `maxBodySize` for all text fields together (they are held in memory) and
 * `maxMultipartSize` for the whole body; past any of them HttpError 413. A malformed body is HttpError
 * 400. File parts with an empty file name (an empty file input) are skipped, as browsers send.
 *
 * Env keys read: `CONTENT_TYPE`, `tsgi.input`, `tsgix.input.buffered`, `tsgix.cleanup.handlers`.
 * Env keys written: `tsgix.request.upload_dir`, `tsgix.request.body_streamed`.
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'
import { HttpError } from '../http-error.js'
import type { Env } from '../types.js'
import { MultiMap } from './multi-map.js'
import type { BodyLimits } from './options.js'
import { pumpInput } from './raw-body.js'
import { TsgiUpload } from './upload.js'

declare module '../types.js' {
  interface Env {
    /** The temporary directory holding this request's uploads, until cleanup. */
    'tsgix.request.upload_dir'?: string
  }
}

/** The fields and files of a multipart body. */
export interface MultipartForm {
  readonly fields: MultiMap<string>
  readonly uploads: MultiMap<TsgiUpload>
}

const dirs = new WeakMap<Env, Promise<string>>()
// Per env: the removal in progress or done. Once removal started (the server's cleanup ran,
// say, because the client went away), no new directory is made for that request: nothing
// would remove it.
const removals = new WeakMap<Env, Promise<void>>()

function uploadDir(env: Env): Promise<string> {
  if (removals.has(env)) {
    return Promise.reject(new Error('TsgiRequest: the request was cleaned up; its uploads cannot be stored'))
  }
  let dir = dirs.get(env)
  if (dir === undefined) {
    dir = mkdtemp(join(tmpdir(), 'tsgi-upload-')).then(async (path) => {
      if (removals.has(env)) {
        await rm(path, { recursive: true, force: true })
        throw new Error('TsgiRequest: the request was cleaned up; its uploads cannot be stored')
      }
      env['tsgix.request.upload_dir'] = path
      env['tsgix.cleanup.handlers']?.push(removeUploads)
      return path
    })
    dirs.set(env, dir)
  }
  return dir
}

/**
 * Removes this request's upload directory and every file in it. Safe to call more than once
 * and concurrently: every call resolves when the directory is gone. Afterwards no upload can
 * be stored for this request.
 */
export function removeUploads(env: Env): Promise<void> {
  let removal = removals.get(env)
  if (removal === undefined) {
    removal = (async () => {
      const pending = dirs.get(env)
      const dir = env['tsgix.request.upload_dir'] ?? (await pending?.catch(() => undefined))
      delete env['tsgix.request.upload_dir']
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    })()
    removals.set(env, removal)
  }
  return removal
}

async function saveFile(
  env: Env,
  index: number,
  stream: Readable,
  init: { fieldName: string; filename: string; contentType: string },
  aborted: () => HttpError | undefined,
): Promise<TsgiUpload> {
  let dir: string
  try {
    dir = await uploadDir(env)
  } catch (err) {
    stream.resume() // the parser waits until the part is read
    throw err
  }
  const failure = aborted()
  if (failure !== undefined) {
    stream.resume()
    throw failure
  }
  const path = join(dir, String(index))
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 })
  try {
    await pipeline(stream, out)
  } catch (err) {
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()))
    throw err
  }
  return new TsgiUpload({
    ...init,
    size: out.bytesWritten,
    path,
    headers: ['Content-Type', init.contentType],
  })
}

/** Parses the multipart body of `env`, streaming files to disk. */
export async function parseMultipart(env: Env, limits: BodyLimits): Promise<MultipartForm> {
  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': env.CONTENT_TYPE ?? '' },
      preservePath: true,
      defParamCharset: 'utf8',
      // busboy reports a limit when a value *reaches* it; +1 lets a value of exactly the limit through.
      limits: {
        fileSize: limits.maxFileSize + 1,
        fieldSize: limits.maxBodySize + 1,
        files: limits.maxFiles,
        fields: limits.maxFields,
      },
    })
  } catch (err) {
    throw new HttpError(400, 'malformed multipart Content-Type', { cause: err })
  }
  let failure: HttpError | undefined
  let signalFailure = (): void => {}
  const failed = new Promise<void>((resolve) => {
    signalFailure = resolve
  })
  const fail = (err: HttpError): void => {
    if (failure !== undefined) return
    failure = err
    signalFailure()
  }
  const fields = new MultiMap<string>()
  const files: Promise<TsgiUpload>[] = []
  let fieldBytes = 0
  parser.on('field', (name, value, info) => {
    fieldBytes += Buffer.byteLength(value)
    if (info.valueTruncated || info.nameTruncated || fieldBytes > limits.maxBodySize) {
      fail(new HttpError(413, 'form fields too large'))
    } else fields.add(name, value)
  })
  parser.on('file', (fieldName, stream, info) => {
    // A truncated form errors the part's stream too, possibly before saveFile pipes it; the
    // parser's own 'error' event is what reports it.
    stream.on('error', () => {})
    if (info.filename === undefined || info.filename === '') {
      stream.resume()
      return
    }
    stream.on('limit', () => fail(new HttpError(413, 'uploaded file too large')))
    const init = { fieldName, filename: info.filename, contentType: info.mimeType }
    const saved = saveFile(env, files.length, stream, init, () => failure)
    saved.catch(() => {})
    files.push(saved)
  })
  parser.on('filesLimit', () => fail(new HttpError(413, 'too many files')))
  parser.on('fieldsLimit', () => fail(new HttpError(413, 'too many form fields')))
  parser.on('error', (err) => fail(new HttpError(400, 'malformed multipart body', { cause: err })))
  const closed = new Promise<void>((resolve) => parser.once('close', resolve))
  const buffered = env['tsgix.input.buffered'] === true

  try {
    if (!buffered) env['tsgix.request.body_streamed'] = true
    await pumpInput(env, limits.maxMultipartSize, async (chunk) => {
      if (failure === undefined && !parser.write(chunk)) {
        await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), failed])
      }
      if (failure !== undefined) throw failure
    })
    parser.end()
    await Promise.race([closed, failed])
    if (failure !== undefined) throw failure
    const uploads = new MultiMap<TsgiUpload>()
    for (const saved of files) {
      let upload: TsgiUpload
      try {
        upload = await saved
      } catch (err) {
        throw failure ?? new HttpError(500, 'could not store an uploaded file', { cause: err })
      }
      uploads.add(upload.fieldName, upload)
    }
    if (failure !== undefined) throw failure
    return { fields, uploads }
  } catch (err) {
    parser.destroy()
    await Promise.allSettled(files)
    await removeUploads(env)
    throw err
  }
}
