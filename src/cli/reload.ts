/**
 * `--reload`: the supervisor. It never loads the app; it runs the serving process as a child
 * (the same command, marked by {@link SUPERVISED}), watches the app's directory and the
 * `--reload-paths`, and on a change stops the child gracefully and starts a new one. A child
 * that fails at the first start ends the supervisor with its exit code (the child has shown
 * the error); one that fails after a change waits for the next change.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, relative, resolve } from 'node:path'
import { readyLine } from './listen.js'
import type { CliOptions } from './options.js'
import type { Output } from './serve-app.js'
import { isTsgiupMessage, whenStopRequested } from './signals.js'
import { watchPaths } from './watch.js'

/** The environment variable that marks the supervised child. */
export const SUPERVISED = 'TSGIUP_SUPERVISED'
/** The environment variable with the ports the first child got for `-p 0`, kept across restarts. */
export const PINNED_PORTS = 'TSGIUP_PINNED_PORTS'

/** The environment that passes the ports of `opts` on to a cluster worker. */
export function pinnedPortsEnv(opts: CliOptions): Record<string, string> {
  return { [PINNED_PORTS]: JSON.stringify(opts.listen.map((spec) => spec.port ?? 0)) }
}

/**
 * The listen addresses of a supervised child: a port 0 becomes the port the first child was
 * given, so the URLs stay the same across restarts.
 */
export function pinnedOptions(opts: CliOptions, env: Record<string, string | undefined>): CliOptions {
  const pinned = env[PINNED_PORTS]
  delete env[PINNED_PORTS]
  if (pinned === undefined) return opts
  const ports: unknown = JSON.parse(pinned)
  if (!Array.isArray(ports)) return opts
  const listen = opts.listen.map((spec, i) => {
    const port: unknown = ports[i]
    return spec.port === 0 && typeof port === 'number' && port > 0 ? { ...spec, port } : spec
  })
  return { ...opts, listen }
}

/** How long changes settle before a restart (editors write a file in several steps). */
const SETTLE_MS = 100

/** Runs the supervisor until SIGTERM or SIGINT; resolves with the exit code. */
export function runSupervisor(
  opts: CliOptions,
  file: string | undefined,
  argv: readonly string[],
  cwd: string,
  out: Output,
): Promise<number> {
  const say = (line: string) => void out.stderr.write(`tsgiup: ${line}\n`)
  const script = process.argv[1] ?? ''
  let child: ChildProcess | undefined
  let everReady = false
  let ports: readonly number[] = []
  let stopping = false
  let restart = false
  let settle: NodeJS.Timeout | undefined
  let resolveDone: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })

  const start = () => {
    const env = {
      ...process.env,
      [SUPERVISED]: '1',
      ...(everReady ? { [PINNED_PORTS]: JSON.stringify(ports) } : {}),
    }
    const current = fork(script, [...argv], { cwd, env, stdio: 'inherit' })
    child = current
    current.on('message', (message: unknown) => {
      if (!isTsgiupMessage(message) || message.tsgiup !== 'ready') return
      if (everReady) return say('reloaded')
      everReady = true
      ports = message.ports
      const facts = {
        server: opts.server,
        environment: opts.environment,
        workers: opts.workers,
        reload: true,
      }
      out.stderr.write(readyLine(message.urls, { ...facts, pid: process.pid }))
    })
    current.on('exit', (code, signal) => {
      if (child === current) child = undefined
      if (stopping) return finish(0)
      if (restart) {
        restart = false
        return start()
      }
      if (!everReady) return finish(code ?? 1)
      say(
        `the app stopped (${signal ? `signal ${signal}` : `code ${code}`}); waiting for a change to restart`,
      )
    })
  }

  const onChange = (path: string) => {
    if (stopping) return
    clearTimeout(settle)
    settle = setTimeout(() => {
      say(`${relative(cwd, path) || path} changed; restarting`)
      if (child) {
        restart = true
        child.kill('SIGTERM')
      } else start()
    }, SETTLE_MS)
  }
  const roots = [file ? dirname(file) : cwd, ...opts.reloadPaths.map((p) => resolve(cwd, p))]
  const ignore = [
    ...(opts.accessLog ? [resolve(cwd, opts.accessLog)] : []),
    ...opts.listen.flatMap((l) => (l.path === undefined ? [] : [resolve(cwd, l.path)])),
  ]
  const watcher = watchPaths(roots, ignore, onChange)

  const stop = whenStopRequested((signal) => {
    say(`${signal} again: exiting now`)
    child?.kill('SIGKILL')
    process.exit(1)
  })
  const finish = (code: number) => {
    clearTimeout(settle)
    watcher.close()
    stop.dispose()
    resolveDone(code)
  }
  void stop.requested.then((why) => {
    stopping = true
    say(`${why}: shutting down`)
    if (child) child.kill('SIGTERM')
    else finish(0)
  })
  start()
  return done
}
