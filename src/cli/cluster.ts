/**
 * `--workers N`: the cluster primary. It forks N workers (each loads the app and listens on
 * the shared addresses, with `tsgi.multiprocess` true), prints the ready line once all are
 * ready, and replaces a worker that dies afterwards. A worker that fails to start (a user
 * error: bad app file, address in use) stops the whole cluster with that error, shown once.
 * On SIGTERM or SIGINT every worker shuts down gracefully, then the primary exits 0.
 */
import cluster, { type Worker } from 'node:cluster'
import { readyLine } from './listen.js'
import type { CliOptions } from './options.js'
import { pinnedPortsEnv } from './reload.js'
import type { Output } from './serve-app.js'
import { isTsgiupMessage, type TsgiupMessage, whenStopRequested } from './signals.js'

interface WorkerState {
  ready: boolean
  failed: boolean
}

/** Runs the primary of a cluster of `opts.workers` workers; resolves with the exit code. */
export function runPrimary(
  opts: CliOptions,
  argv: readonly string[],
  out: Output,
  supervised: boolean,
): Promise<number> {
  const count = opts.workers ?? 1
  cluster.setupPrimary({ args: [...argv] })
  const states = new Map<Worker, WorkerState>()
  let announced = false
  let stopping = false
  let exitCode = 0
  let resolveDone: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })
  const finish = (code: number) => {
    stop.dispose()
    resolveDone(code)
  }
  const say = (line: string) => void out.stderr.write(`tsgiup: ${line}\n`)

  const stopAll = (code: number) => {
    if (stopping) return
    stopping = true
    exitCode = code
    for (const worker of states.keys()) worker.process.kill('SIGTERM')
    if (states.size === 0) finish(exitCode)
  }
  const stop = whenStopRequested((signal) => {
    say(`${signal} again: exiting now`)
    for (const worker of states.keys()) worker.process.kill('SIGKILL')
    process.exit(1)
  })
  void stop.requested.then((why) => {
    if (!supervised) say(`${why}: shutting down ${states.size} workers`)
    stopAll(0)
  })

  const onMessage = (worker: Worker, message: TsgiupMessage) => {
    const state = states.get(worker)
    if (!state) return
    if (message.tsgiup === 'ready') {
      state.ready = true
      const readyCount = [...states.values()].filter((s) => s.ready).length
      if (!announced && readyCount === count) {
        announced = true
        if (supervised) process.send?.(message)
        else {
          const facts = {
            server: opts.server,
            environment: opts.environment,
            workers: count,
            pid: process.pid,
          }
          out.stderr.write(readyLine(message.urls, facts))
        }
      }
    } else if (message.tsgiup === 'fatal') {
      state.failed = true
      if (!announced) {
        if (!stopping) out.stderr.write(`tsgiup: ${message.message}\n`)
        stopAll(message.exitCode)
      } else say(`a new worker failed to start: ${message.message}`)
    }
  }

  const fork = () => {
    const worker = cluster.fork(pinnedPortsEnv(opts))
    states.set(worker, { ready: false, failed: false })
    worker.on('message', (message: unknown) => {
      if (isTsgiupMessage(message)) onMessage(worker, message)
    })
    worker.on('exit', (code, signal) => {
      const state = states.get(worker)
      states.delete(worker)
      if (stopping) {
        if (states.size === 0) finish(exitCode)
        return
      }
      const how = signal ? `signal ${signal}` : `code ${code}`
      if (!announced) {
        if (!state?.failed) say(`a worker exited (${how}) before it was ready`)
        stopAll(1)
      } else if (state?.ready) {
        say(`worker ${worker.process.pid} exited (${how}); starting another`)
        fork()
      } else {
        if (!state?.failed) say(`a new worker exited (${how}) before it was ready; not replacing it`)
        if (states.size === 0) {
          say('no workers left')
          stopAll(1)
        }
      }
    })
  }
  for (let i = 0; i < count; i++) fork()
  return done
}
