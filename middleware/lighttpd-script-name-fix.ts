/**
 * LighttpdScriptNameFix — repairs the `SCRIPT_NAME` and `PATH_INFO` that lighttpd's FastCGI
 * module sets when an app is mounted at the root (`/`): it puts the whole path in
 * `SCRIPT_NAME`. On requests whose `SERVER_SOFTWARE` names lighttpd, the full path
 * (`SCRIPT_NAME` + `PATH_INFO`) is split again at `scriptName`: that prefix becomes
 * `SCRIPT_NAME`, the rest `PATH_INFO`. Other requests pass untouched.
 *
 * Env keys: reads `SERVER_SOFTWARE`; rewrites `SCRIPT_NAME` and `PATH_INFO`.
 *
 * @example
 * builder(enable('LighttpdScriptNameFix', { scriptName: '/something' }), app)
 * @see https://redmine.lighttpd.net/issues/729, Plack::Middleware::LighttpdScriptNameFix
 */
import { checkOptions, optionString } from '../src/options.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link lighttpdScriptNameFix}. */
export interface LighttpdScriptNameFixOptions {
  /**
   * Where the app is mounted, e.g. `'/something'` (a trailing slash is dropped). `''` means the
   * root: the whole path becomes `PATH_INFO`.
   * @default ''
   */
  readonly scriptName?: string
}

/** Splits lighttpd's path at `scriptName`. */
export function lighttpdScriptNameFix(options: LighttpdScriptNameFixOptions = {}): Middleware {
  const opts = checkOptions('LighttpdScriptNameFix', options, ['scriptName'])
  const given = optionString('LighttpdScriptNameFix', opts, 'scriptName') ?? ''
  const scriptName = given.replace(/\/$/, '')
  if (scriptName !== '' && !scriptName.startsWith('/')) {
    throw new TypeError(
      `LighttpdScriptNameFix: option 'scriptName' must be '' or start with '/', got '${given}'`,
    )
  }
  return (app) =>
    function lighttpdScriptNameFix(env) {
      const software = env.SERVER_SOFTWARE
      if (typeof software === 'string' && software.includes('lighttpd')) {
        const path = env.SCRIPT_NAME + env.PATH_INFO
        const next = path.charAt(scriptName.length)
        if (path.startsWith(scriptName) && (next === '' || next === '/')) {
          env.SCRIPT_NAME = scriptName
          env.PATH_INFO = path.slice(scriptName.length)
        } else {
          env.SCRIPT_NAME = ''
          env.PATH_INFO = path
        }
      }
      return app(env)
    }
}
