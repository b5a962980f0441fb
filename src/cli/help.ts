/** tsgiup's `--help` text and `--version` number. */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The usage text `--help` prints. */
export const HELP = `Usage: tsgiup [options] [app-file]

Serves the TSGI app that app-file (.ts, .mts, .js or .mjs) exports as default.
Without app-file: app.ts, then app.js, in the working directory.

Options:
  -a, --app FILE              the app file (same as the app-file argument)
  -e, --eval CODE             the app from inline code: a module that does
                              'export default <app>', or an app expression
  -o, --host HOST             interface to listen on (default: all)
  -p, --port PORT             TCP port (default: 5000; 0 picks a free one)
  -l, --listen ADDR           host:port, :port or a unix socket path; repeat
                              for several listeners (not with -o/-p)
  -s, --server NAME           server to run on: node (HTTP/1.1, default) or http2 (h2 over
                              TLS with HTTP/1.1 by ALPN; cleartext h2c without --tls-*);
                              fastcgi (a FastCGI responder behind nginx, Apache or
                              lighttpd: on -l/-p, or on fd 0 when a spawner passes it);
                              cgi answers this process's one CGI request (environment
                              and stdin in, stdout out) and exits
  -E, --env NAME              environment (default: $TSGI_ENV, $NODE_ENV or
                              development); development adds AccessLog,
                              StackTrace and Lint
  -r, --reload                restart when a file in the app's directory changes
  -R, --reload-paths P1,P2    also watch these paths (implies --reload)
  -M, --module NAME           import this module first (repeatable)
  -w, --workers N             run N worker processes (node:cluster)
      --access-log FILE       append the access log to FILE
      --tls-cert FILE         serve HTTPS with this certificate (PEM) ...
      --tls-key FILE          ... and this private key (PEM)
      --keep-alive-timeout T  idle keep-alive timeout (5000, 5000ms or 5s)
      --shutdown-timeout T    grace period for in-flight requests on SIGTERM
                              or SIGINT (default: 10s)
  -v, --version               print the version and exit
  -h, --help                  print this help and exit

Docs: docs/cli.md
`

/** The version of the tsgi package this runner belongs to. */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      const { name, version: v } = pkg as { name?: unknown; version?: unknown }
      if (name === 'tsgi' && typeof v === 'string') return v
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}
