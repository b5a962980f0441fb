/**
 * File — serves static files from a root directory (or always one given file), as
 * Plack::App::File, with byte ranges and precompressed siblings on top.
 *
 * PATH_INFO is mapped under `root`. A NUL byte is 400; any `..` segment (separated by `/` or
 * `\`, percent-encoded or not) is 403; a file whose real path (after symbolic links) leaves the
 * root is 403; an unreadable file is 403; directories and missing files are 404. Only GET and
 * HEAD are answered (others: 405 with `Allow: GET, HEAD`). The body is a FileBody, so the
 * server streams it in constant memory.
 *
 * Env keys: reads REQUEST_METHOD, PATH_INFO, HTTP_RANGE, HTTP_IF_RANGE, HTTP_ACCEPT_ENCODING.
 *
 * @example
 * const app = file({ root: './public', precompressed: true })
 * @example
 * mount('/favicon.ico', file({ file: './public/favicon.ico' }))
 * @see RFC 9110 §14 (ranges), §8.4 (Content-Encoding); Plack::App::File
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { checkOptions, optionString } from '../options.js'
import type { App, Env, Triple } from '../types.js'
import { locate, realRoot, statusForError } from './file/locate.js'
import {
  FILE_SERVE_KEYS,
  type FileConfig,
  type FileServeOptions,
  fileConfig,
  optionRoot,
} from './file/options.js'
import { methodNotAllowed, plain, readMethod, serveFile } from './file/serve.js'

export type { FileServeOptions, PrecompressedEncoding } from './file/options.js'

/** Options of {@link file}. */
export interface FileOptions extends FileServeOptions {
  /** The document root PATH_INFO is mapped under. @default '.' */
  readonly root?: string
  /** Always serve this one file, whatever the path (no path checks); `root` is then unused. */
  readonly file?: string
}

/** The File app. */
export function file(options: FileOptions = {}): App {
  const opts = checkOptions('File', options, ['root', 'file', ...FILE_SERVE_KEYS])
  const config = fileConfig('File', opts)
  const single = optionString('File', opts, 'file')
  if (single !== undefined) {
    if (single === '') throw new TypeError("File: option 'file' must not be empty")
    return singleFile(config, resolve(single))
  }
  const root = optionRoot('File', opts, '.')!
  const base = realRoot(root)
  return async function file(env: Env): Promise<Triple> {
    if (!readMethod(env)) return methodNotAllowed()
    const found = await locate(base, root, env.PATH_INFO ?? '', false)
    if (found.kind === 'error') return plain(found.status)
    if (found.kind !== 'file') return plain(404)
    return serveFile(config, env, await base(), found.path, found.real, found.stat)
  }
}

/** The app for the `file` option: that file for every request. */
function singleFile(config: FileConfig, path: string): App {
  return async function file(env: Env): Promise<Triple> {
    if (!readMethod(env)) return methodNotAllowed()
    try {
      const info = await stat(path)
      if (!info.isFile()) return plain(404)
      return await serveFile(config, env, '/', path, path, info)
    } catch (err) {
      const status = statusForError(err)
      if (status === undefined) throw err
      return plain(status)
    }
  }
}
