/**
 * A real nginx reverse proxy in front of a test server: {@link startNginx} writes a config into
 * a temp dir (pid, logs and every temp path there, so nothing outside it is touched), runs
 * `nginx -c <conf> -p <dir>` in the foreground on a free 127.0.0.1 port and resolves once the
 * port accepts connections. The one `location /` proxies with HTTP/1.1, passes `Host` and the
 * WebSocket `Upgrade`/`Connection` pair (the usual `$connection_upgrade` map) and waits up to
 * an hour for the upstream; response buffering is left at nginx's default (on), so a response
 * streams only when it asks to (`X-Accel-Buffering: no`) or `extra` turns buffering off.
 *
 * Without `upstream` there is no `location /` of the fixture's: the test gives its own in
 * `extra` (a `fastcgi_pass` one, say), with an `upstream` block in `http` when it needs one.
 *
 * Tests that need it skip without nginx, with a printed reason ({@link skipNginx}), and fail
 * when TSGI_REQUIRE_INTEGRATION=1.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { accepting, freePort, stopChild } from './front-end-fixture.js'
import { findBinary, present, skipWithout } from './tls-fixture.js'

export { freePort } from './front-end-fixture.js'

function findNginx(): string | undefined {
  try {
    accessSync('/usr/sbin/nginx', constants.X_OK)
    return '/usr/sbin/nginx'
  } catch {
    return findBinary('nginx', ['-v'])
  }
}

/** The nginx binary, or undefined when there is none. */
export const nginxPath: string | undefined = findNginx()

/** Why nginx tests cannot run here, or undefined when they can. */
export const nginxMissing: string | undefined =
  nginxPath === undefined ? 'nginx not found (Debian package nginx)' : undefined

/** nginx's FastCGI params file (Debian's nginx-common), for `include` in a `fastcgi_pass` location. */
export const nginxFastcgiParams = '/etc/nginx/fastcgi_params'

/** Why nginx FastCGI tests cannot run here (no nginx, or no {@link nginxFastcgiParams}), or undefined. */
export const nginxFastcgiMissing: string | undefined =
  nginxMissing ??
  (existsSync(nginxFastcgiParams)
    ? undefined
    : `${nginxFastcgiParams} not found (Debian package nginx-common)`)

/** Whether tests of `what` that need nginx skip (printing why, once). */
export function skipNginx(what: string): boolean {
  return skipWithout(what, nginxMissing)
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** Where `location /` proxies to: `http://127.0.0.1:PORT`. Absent: no `location /` but those in `extra`. */
  readonly upstream?: string
  /** More directives for the `server` block (a `location`, or `proxy_buffering off;`, inherited by `location /`). */
  readonly extra?: string
  /** Directives for the `http` block, before `server` (an `upstream` block). */
  readonly http?: string
}

/** A running nginx. */
export interface Nginx {
  readonly port: number
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly url: string
  /** The temp dir holding the config, logs and temp files (removed by `stop`). */
  readonly dir: string
  /** Stops nginx (fast shutdown: open connections are closed) and removes its dir. */
  stop(): Promise<void>
}

/** The fixture's `location /`: an HTTP/1.1 reverse proxy to `upstream`. */
function proxyRoot(upstream: string): string {
  return `    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
    }
`
}

function config(dir: string, port: number, options: NginxOptions): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
${options.http ?? ''}
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${options.upstream === undefined ? '' : proxyRoot(options.upstream)}${options.extra ?? ''}
  }
}
`
}

/** Starts nginx proxying to `options.upstream` (or as `extra` says); throws when nginx is missing or does not start. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const bin = present(nginxPath, 'nginx not found (Debian package nginx)')
  let lastError: unknown
  // The free port can be taken between the probe and nginx's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-nginx-'))
    const port = await freePort()
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, config(dir, port, options))
    let stderr = ''
    const child = spawn(bin, ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = once(child, 'exit')
    const remove = () => rmSync(dir, { recursive: true, force: true })
    try {
      await accepting('nginx', port, child, () => stderr.trim())
    } catch (err) {
      lastError = err
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
      remove()
      continue
    }
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      dir,
      stop: async () => {
        await stopChild(child, exited)
        remove()
      },
    }
  }
  throw lastError
}
