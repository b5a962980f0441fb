/**
 * A real Apache httpd (Debian's, `/usr/sbin/apache2`) in front of tsgi: {@link startApache}
 * runs `apache2 -DFOREGROUND -f <conf>` (in a process group of its own: Apache stops by
 * signalling its group) on a free 127.0.0.1 port with a
 * config of the fixture's own lines (ServerRoot, pid file, runtime dir and error log inside the
 * temp dir, the MPM, `mod_authz_core`, the document root `<dir>/www` open to all) and the
 * test's: the modules it names, loaded from `/usr/lib/apache2/modules`, and their directives.
 * Started as root, Apache runs its children (and CGI scripts) as `nobody`.
 *
 * @example
 * const apache = await startApache({
 *   modules: ['alias', 'cgid'],
 *   config: (at) => `ScriptSock ${at.dir}/cgid.sock\nScriptAlias /app /path/to/app.mjs`,
 * })
 *
 * Tests that need it skip without Apache, with a printed reason ({@link skipApache}), and fail
 * when TSGI_REQUIRE_INTEGRATION=1.
 */
import { accessSync, constants } from 'node:fs'
import {
  type ConfigPart,
  configText,
  type FrontEnd,
  type Placement,
  startFrontEnd,
} from './front-end-fixture.js'
import { present, skipWithout } from './tls-fixture.js'

export type { ConfigPart, FrontEnd, Placement } from './front-end-fixture.js'

const MODULES = '/usr/lib/apache2/modules'

function findApache(): string | undefined {
  try {
    accessSync('/usr/sbin/apache2', constants.X_OK)
    accessSync(`${MODULES}/mod_authz_core.so`, constants.R_OK)
    return '/usr/sbin/apache2'
  } catch {
    return undefined
  }
}

/** The apache2 binary, or undefined when there is none. */
export const apachePath: string | undefined = findApache()

const MISSING = 'apache2 not found (Debian package apache2: /usr/sbin/apache2 and its modules)'

/** Why Apache tests cannot run here, or undefined when they can. */
export const apacheMissing: string | undefined = apachePath === undefined ? MISSING : undefined

/** Whether tests of `what` that need Apache skip (printing why, once). */
export function skipApache(what: string): boolean {
  return skipWithout(what, apacheMissing)
}

/** Options of {@link startApache}. */
export interface ApacheOptions {
  /** Modules to load by name (`'cgid'`, `'alias'`, `'proxy_fcgi'` …), beside the MPM and `authz_core`. */
  readonly modules: readonly string[]
  /** The MPM. @default 'event' */
  readonly mpm?: 'event' | 'prefork' | 'worker'
  /** Directives after the fixture's own and the modules: the mapping to the app. */
  readonly config: ConfigPart
}

function loadModule(name: string): string {
  return `LoadModule ${name}_module ${MODULES}/mod_${name}.so\n`
}

/** The fixture's own lines: where Apache listens and keeps its files, and who it runs as. */
function baseConfig(at: Placement, options: ApacheOptions): string {
  const user = process.getuid?.() === 0 ? 'User nobody\nGroup nogroup\n' : ''
  return `ServerRoot "${at.dir}"
DefaultRuntimeDir "${at.dir}"
PidFile "${at.dir}/httpd.pid"
Listen 127.0.0.1:${at.port}
ServerName 127.0.0.1
ErrorLog "${at.dir}/error.log"
LogLevel warn
${user}${loadModule(`mpm_${options.mpm ?? 'event'}`)}${loadModule('authz_core')}${options.modules.map(loadModule).join('')}DocumentRoot "${at.dir}/www"
<Directory "${at.dir}/www">
  Require all granted
</Directory>
`
}

/** Starts Apache with `options`; throws when Apache is missing or does not start. */
export function startApache(options: ApacheOptions): Promise<FrontEnd> {
  const bin = present(apachePath, MISSING)
  return startFrontEnd({
    name: 'apache',
    bin,
    configName: 'httpd.conf',
    config: (at) => `${baseConfig(at, options)}${configText(options.config, at)}\n`,
    args: (conf) => ['-DFOREGROUND', '-f', conf],
    ownGroup: true,
    logs: (at) => [`${at.dir}/error.log`],
  })
}
