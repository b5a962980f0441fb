/** What every bench server script shares: listening on a free local port, and starting the case named on the command line. */
import type { Server } from 'node:http'
import type { Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'

/** Listens on a free port of 127.0.0.1; resolves with the port. */
export async function listen(server: Server | Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/**
 * The options every h3 server here gets (`serve` from h3, on srvx): a free local port, no
 * banner on stdout (its first line must be the port), and no SIGTERM handler (so a stop is a stop).
 */
export const H3_SERVE = { port: 0, hostname: '127.0.0.1', silent: true, gracefulShutdown: false } as const

/** The port of an h3 (srvx) server once it listens. */
export async function h3Port(server: {
  ready(): Promise<unknown>
  readonly url?: string | undefined
}): Promise<number> {
  await server.ready()
  return Number(new URL(server.url ?? '').port)
}

/** The tail of every bench server script: start the case named on the command line, print its port. */
export async function startNamedCase(cases: Record<string, () => Promise<number>>): Promise<void> {
  const name = process.argv[2] ?? ''
  const start = cases[name]
  if (!start) {
    process.stderr.write(`unknown case ${JSON.stringify(name)}; known: ${Object.keys(cases).join(', ')}\n`)
    process.exit(2)
  }
  process.stdout.write(`${await start()}\n`)
}
