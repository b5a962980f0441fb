/**
 * Directory — serves files as the File app does, and lists directories as HTML, as
 * Plack::App::Directory.
 *
 * A directory asked for without a trailing slash is redirected (301) to the slash form, the
 * query string kept and leading slashes collapsed (no `//host` open redirect); with the slash,
 * the answer is an index page: a parent link, then each entry sorted by name with its size,
 * type and modification time. Names are escaped for HTML and percent-encoded in links. The same path rules as File apply (400, 403, 404, 405).
 *
 * Env keys: reads REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING and File's keys.
 *
 * @example
 * const app = directory({ root: './public' })
 * @see Plack::App::Directory
 */
import { checkOptions } from '../options.js'
import type { App, Env, Triple } from '../types.js'
import { encodePath, readEntries, renderIndex } from './directory/listing.js'
import { locate, realRoot, statusForError } from './file/locate.js'
import { FILE_SERVE_KEYS, type FileServeOptions, fileConfig, optionRoot } from './file/options.js'
import { methodNotAllowed, plain, readMethod, serveFile } from './file/serve.js'

/** Options of {@link directory}. */
export interface DirectoryOptions extends FileServeOptions {
  /** The document root PATH_INFO is mapped under. @default '.' */
  readonly root?: string
}

/**
 * The 301 to the slash form of a directory URL (`url` decoded, `query` raw). Leading slashes
 * are collapsed to one: `//host/` would be a network-path reference, an open redirect.
 */
function redirect(url: string, query: string): Triple {
  const location = `${encodePath(url.replace(/^\/{2,}/, '/'))}/${query ? `?${query}` : ''}`
  return [301, ['Location', location, 'Content-Type', 'text/plain', 'Content-Length', '8'], ['Redirect']]
}

/** The Directory app. */
export function directory(options: DirectoryOptions = {}): App {
  const opts = checkOptions('Directory', options, ['root', ...FILE_SERVE_KEYS])
  const config = fileConfig('Directory', opts)
  const root = optionRoot('Directory', opts, '.')!
  const base = realRoot(root)
  return async function directory(env: Env): Promise<Triple> {
    if (!readMethod(env)) return methodNotAllowed()
    const pathInfo = env.PATH_INFO ?? ''
    const found = await locate(base, root, pathInfo, true)
    if (found.kind === 'error') return plain(found.status)
    if (found.kind === 'file') return serveFile(config, env, await base(), found.path, found.real, found.stat)
    const url = (env.SCRIPT_NAME ?? '') + pathInfo
    if (!url.endsWith('/')) return redirect(url, env.QUERY_STRING ?? '')
    let html: string
    try {
      html = renderIndex(`Index of ${pathInfo}`, await readEntries(found.real, encodePath(url)))
    } catch (err) {
      const status = statusForError(err)
      if (status === undefined) throw err
      return plain(status)
    }
    const headers = [
      'Content-Type',
      'text/html; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(html)),
    ]
    return [200, headers, [html]]
  }
}
