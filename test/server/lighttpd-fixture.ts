/**
 * A real lighttpd (Debian's, `/usr/sbin/lighttpd`) in front of tsgi: {@link startLighttpd} runs
 * `lighttpd -D -f <conf>` on a free 127.0.0.1 port with a config of the fixture's own lines
 * (bind, port, document root `<dir>/www`, upload dir, error log and `server.breakagelog` (where
 * CGI scripts' stderr goes: it must be another file than the error log) inside the temp dir) and the
 * test's: the modules and the mapping to the app (`mod_cgi`, `mod_fastcgi` …).
 *
 * @example
 * const lighttpd = await startLighttpd({
 *   config: `server.modules += ( "mod_alias", "mod_cgi" )
 * alias.url = ( "/" => "/path/to/app.mjs/" )
 * cgi.assign = ( ".mjs" => "" )`,
 * })
 *
 * Tests that need it skip without lighttpd, with a printed reason ({@link skipLighttpd}), and
 * fail when TSGI_REQUIRE_INTEGRATION=1.
 */
import { accessSync, constants } from 'node:fs'
import {
  type ConfigPart,
  configText,
  type FrontEnd,
  type Placement,
  startFrontEnd,
} from './front-end-fixture.js'
import { findBinary, present, skipWithout } from './tls-fixture.js'

export type { ConfigPart, FrontEnd, Placement } from './front-end-fixture.js'

function findLighttpd(): string | undefined {
  try {
    accessSync('/usr/sbin/lighttpd', constants.X_OK)
    return '/usr/sbin/lighttpd'
  } catch {
    return findBinary('lighttpd', ['-v'])
  }
}

/** The lighttpd binary, or undefined when there is none. */
export const lighttpdPath: string | undefined = findLighttpd()

const MISSING = 'lighttpd not found (Debian package lighttpd)'

/** Why lighttpd tests cannot run here, or undefined when they can. */
export const lighttpdMissing: string | undefined = lighttpdPath === undefined ? MISSING : undefined

/** Whether tests of `what` that need lighttpd skip (printing why, once). */
export function skipLighttpd(what: string): boolean {
  return skipWithout(what, lighttpdMissing)
}

/** Options of {@link startLighttpd}. */
export interface LighttpdOptions {
  /** Config lines after the fixture's own: `server.modules += (...)`, the mapping to the app, streaming settings. */
  readonly config: ConfigPart
}

/** The fixture's own lines: where lighttpd listens and keeps its files. */
function baseConfig(at: Placement): string {
  return `server.bind = "127.0.0.1"
server.port = ${at.port}
server.document-root = "${at.dir}/www"
server.errorlog = "${at.dir}/error.log"
server.breakagelog = "${at.dir}/stderr.log"
server.upload-dirs = ( "${at.dir}" )
`
}

/** Starts lighttpd with `options.config`; throws when lighttpd is missing or does not start. */
export function startLighttpd(options: LighttpdOptions): Promise<FrontEnd> {
  const bin = present(lighttpdPath, MISSING)
  return startFrontEnd({
    name: 'lighttpd',
    bin,
    configName: 'lighttpd.conf',
    config: (at) => `${baseConfig(at)}${configText(options.config, at)}\n`,
    args: (conf) => ['-D', '-f', conf],
    logs: (at) => [`${at.dir}/error.log`, `${at.dir}/stderr.log`],
  })
}
