/**
 * One serving process: loads the app, wraps it for its environment, listens, says it is
 * ready, and on a stop request closes gracefully (in-flight requests get the shutdown timeout,
 * then are aborted with 'server-shutdown') and returns exit code 0.
 */
import { wrapForEnvironment } from './environment.js'
import { listenAll, readyLine } from './listen.js'
import { loadApp } from './load.js'
import type { CliOptions } from './options.js'
import { sendToParent, whenStopRequested } from './signals.js'

/** Where output goes. */
export interface Output {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

/** How this process runs: alone, as a cluster worker, or as the child of the reload supervisor. */
export type ServeRole = 'single' | 'worker' | 'supervised'

/** Serves the app of `opts` from `file` until asked to stop; resolves with the exit code. */
export async function serveApp(
  opts: CliOptions,
  file: string | undefined,
  cwd: string,
  out: Output,
  role: ServeRole,
): Promise<number> {
  const alone = role === 'single'
  const stop = whenStopRequested((signal) => {
    if (alone) out.stderr.write(`tsgiup: ${signal} again: exiting now\n`)
    process.exit(1)
  })
  try {
    const app = await loadApp({ file, evalCode: opts.evalCode, modules: opts.modules, cwd })
    const wrapped = wrapForEnvironment(app, opts.environment, opts.accessLog, cwd, out.stderr)
    const servers = await listenAll(wrapped.app, opts, cwd, role === 'worker')
    const urls = servers.map((s) => s.url)
    if (alone) {
      out.stderr.write(
        readyLine(urls, { server: opts.server, environment: opts.environment, pid: process.pid }),
      )
    } else await sendToParent({ tsgiup: 'ready', urls, ports: servers.map((s) => s.port) })

    const why = await stop.requested
    if (alone) {
      const grace = (opts.shutdownTimeout ?? 10_000) / 1000
      out.stderr.write(`tsgiup: ${why}: shutting down (in-flight requests have ${grace}s)\n`)
    }
    await Promise.all(servers.map((s) => s.close()))
    await wrapped.close()
    return 0
  } finally {
    stop.dispose()
  }
}
