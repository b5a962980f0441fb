/**
 * Static — serves the requests whose path matches from a directory through the File app, and
 * passes the others to the wrapped app, as Plack::Middleware::Static.
 *
 * `path` decides which requests are static: a prefix of PATH_INFO, a RegExp tested on it, or a
 * function of (PATH_INFO, env) that returns true to serve the path as it is, a string to serve
 * that path instead (Plack's `s!^/static/!!` on `$_`), or false to pass the request on. The
 * rewritten PATH_INFO is set on the same env for the File app and restored afterwards. With
 * `passThrough`, a 404 (and a method other than GET or HEAD) goes on to the app instead.
 *
 * Env keys: reads PATH_INFO (and what File reads); changes PATH_INFO only while File runs.
 *
 * @example
 * builder(enable('Static', { path: /^\/(images|js|css)\//, root: './htdocs' }), app)
 * @example
 * staticFiles({ path: (p) => p.startsWith('/static/') && p.slice(7), root: './static-files' })
 * @see RFC 9110 §14 (ranges); Plack::Middleware::Static, Plack::App::File
 */

import { FILE_SERVE_KEYS, type FileServeOptions, fileConfig, optionRoot } from '../src/app/file/options.js'
import { file } from '../src/app/file.js'
import { checkOptions, optionBoolean } from '../src/options.js'
import type { App, AppResult, Env, Middleware } from '../src/types.js'

/** A function that picks static requests: true or a rewritten path to serve, false to pass on. */
export type StaticPathFunction = (path: string, env: Env) => boolean | string | null | undefined

/** Options of {@link staticFiles}. */
export interface StaticFilesOptions extends FileServeOptions {
  /** Which requests are served from `root`: a PATH_INFO prefix, a RegExp, or a {@link StaticPathFunction}. */
  readonly path: string | RegExp | StaticPathFunction
  /** The directory files are served from. @default '.' */
  readonly root?: string
  /** Let a 404 (or a method File does not answer) fall through to the app. @default false */
  readonly passThrough?: boolean
}

const KEYS = ['path', 'root', 'passThrough', ...FILE_SERVE_KEYS]

/** Compiles the `path` option into a function returning the path to serve, or undefined. */
function pathMatcher(value: unknown): (path: string, env: Env) => string | undefined {
  if (typeof value === 'string') {
    if (value === '') throw new TypeError("Static: option 'path' must not be an empty string")
    return (path) => (path.startsWith(value) ? path : undefined)
  }
  if (value instanceof RegExp) {
    const re = new RegExp(value.source, value.flags.replace(/[gy]/g, ''))
    return (path) => (re.test(path) ? path : undefined)
  }
  if (typeof value === 'function') {
    const fn = value as StaticPathFunction
    return (path, env) => {
      const result = fn(path, env)
      if (typeof result === 'string') return result
      return result ? path : undefined
    }
  }
  throw new TypeError("Static: option 'path' is required (a string prefix, a RegExp or a function)")
}

/** The Static middleware (Plack's name; `static` is a reserved word). */
export function staticFiles(options: StaticFilesOptions): Middleware {
  const opts = checkOptions('Static', options, KEYS)
  const match = pathMatcher(opts.path)
  const root = optionRoot('Static', opts, '.')!
  const passThrough = optionBoolean('Static', opts, 'passThrough') ?? false
  fileConfig('Static', opts)
  const fileOptions: Record<string, unknown> = { root }
  for (const key of FILE_SERVE_KEYS) if (opts[key] !== undefined) fileOptions[key] = opts[key]
  const files = file(fileOptions)

  return (app: App): App =>
    async function staticFiles(env: Env): Promise<AppResult> {
      const original = env.PATH_INFO
      const path = match(original ?? '', env)
      if (path === undefined) return app(env)
      env.PATH_INFO = path
      let res: AppResult
      try {
        res = await files(env)
      } finally {
        env.PATH_INFO = original
      }
      if (passThrough && typeof res !== 'function' && (res[0] === 404 || res[0] === 405)) return app(env)
      return res
    }
}
