/**
 * One serving process: loads the app, wraps it for its environment, runs the app's lifespan
 * startup (once for the process, whatever the number of addresses; a failure is a one-line
 * error), listens, says it is ready, and on a stop request closes gracefully (in-flight
 * requests get the shutdown timeout, then are aborted with 'server-shutdown'), runs the
 * lifespan shutdown and returns exit code 0. With `-s cgi` it answers the process's one CGI
 * request instead of listening (nothing is written to stdout but the response).
 */
import { type StartedLifespan, startLifespan } from '../server/lifespan.js'
import type { App } from '../types.js'
import { wrapForEnvironment } from './environment.js'
import { CliError, messageLine } from './errors.js'
import { answerCgiRequest, type ListeningServer, listenAll, readyLine } from './listen.js'
import { displayPath, loadApp } from './load.js'
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
    const label = file === undefined ? '-e code' : displayPath(file, cwd)
    const lifespan = await startup(app, label, out.stderr)
    if (opts.server === 'cgi') {
      try {
        await answerCgiRequest(wrapped.app)
      } finally {
        await lifespan.shutdown()
        await wrapped.close()
      }
      return 0
    }
    let servers: ListeningServer[]
    try {
      servers = await listenAll(wrapped.app, opts, cwd, role === 'worker')
    } catch (err) {
      await lifespan.shutdown()
      throw err
    }
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
    await lifespan.shutdown()
    await wrapped.close()
    return 0
  } finally {
    stop.dispose()
  }
}

/** Runs the app's lifespan startup; a failure is a CliError with its message on one line. */
async function startup(app: App, label: string, stderr: Output['stderr']): Promise<StartedLifespan> {
  try {
    return await startLifespan(app, stderr)
  } catch (err) {
    throw new CliError(`${label} startup failed: ${messageLine(err)}`)
  }
}
