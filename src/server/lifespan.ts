/**
 * Running an app's lifespan hooks (spec 5.8), for the servers here and for any host that runs
 * an app its own way (`toNodeListener` under Express, say): {@link startLifespan} runs every
 * startup hook in order and gives a {@link StartedLifespan} whose `shutdown()` runs the shutdown hooks
 * in reverse. {@link lifespanOnDemand} is the form for servers with no listen step (the fetch
 * adapter): the first request, or an explicit `startup()`, starts the hooks.
 *
 * @example
 * const lifespan = await startLifespan(app, process.stderr) // rejects when a startup fails
 * const server = http.createServer(toNodeListener(app)).listen(8080)
 * process.once('SIGTERM', () => server.close(() => void lifespan.shutdown()))
 */
import { type LifespanHooks, lifespanOf } from '../lifespan.js'
import type { App, ErrorStream } from '../types.js'
import { describeError } from './pipeline.js'

/** Hooks that have started. */
export interface StartedLifespan {
  /**
   * Runs the shutdown hooks of everything that started, in reverse order, each awaited. A hook
   * that fails is reported on the error stream and the others still run; the promise never
   * rejects. A second call returns the first call's promise.
   */
  shutdown(): Promise<void>
}

const RESOLVED = Promise.resolve()
const STARTED_NOTHING: StartedLifespan = { shutdown: () => RESOLVED }

/**
 * Runs the startup hooks `app` carries, in order, each awaited. When one throws or rejects,
 * the shutdown hooks of those that had started run (in reverse), and the promise rejects with
 * the startup's error. Failures of shutdown hooks go to `errors`.
 */
export async function startLifespan(app: unknown, errors: ErrorStream): Promise<StartedLifespan> {
  const hooks = lifespanOf(app)
  if (hooks.length === 0) return STARTED_NOTHING
  const started: LifespanHooks[] = []
  for (const entry of hooks) {
    try {
      await entry.startup?.()
    } catch (err) {
      await shutDown(started, errors)
      throw err
    }
    started.push(entry)
  }
  let stopped: Promise<void> | undefined
  return {
    shutdown: () => {
      stopped ??= shutDown(started, errors)
      return stopped
    },
  }
}

async function shutDown(started: readonly LifespanHooks[], errors: ErrorStream): Promise<void> {
  for (let i = started.length - 1; i >= 0; i--) {
    try {
      await started[i]!.shutdown?.()
    } catch (err) {
      errors.write(`tsgi: lifespan shutdown failed: ${describeError(err)}\n`)
    }
  }
}

/** The lifespan of a server without a listen step, started by its first request. */
export interface OnDemandLifespan {
  /** The app to call: waits for the startup before the app's first call (concurrent requests wait on the same one). */
  readonly app: App
  /**
   * Runs the startup now, or waits for the one under way; resolves at once when it has run.
   * A failure rejects (the requests waiting for it fail with it) and the next call tries again.
   */
  startup(): Promise<void>
  /** Waits for a startup under way, then runs the shutdown hooks; a later request starts them again. */
  shutdown(): Promise<void>
}

/** The on-demand lifespan of `app`; `app` itself is returned untouched when it carries no hooks. */
export function lifespanOnDemand(app: App, errors: ErrorStream): OnDemandLifespan {
  if (lifespanOf(app).length === 0) return { app, startup: () => RESOLVED, shutdown: () => RESOLVED }
  let running: StartedLifespan | undefined
  let starting: Promise<StartedLifespan> | undefined
  const startup = (): Promise<void> => {
    if (running !== undefined) return RESOLVED
    starting ??= startLifespan(app, errors).then(
      (lifespan) => {
        running = lifespan
        starting = undefined
        return lifespan
      },
      (err: unknown) => {
        starting = undefined
        throw err
      },
    )
    return starting.then(() => undefined)
  }
  return {
    app: function started(env) {
      return running !== undefined ? app(env) : startup().then(() => app(env))
    },
    startup,
    async shutdown() {
      await starting?.catch(() => undefined)
      const lifespan = running
      running = undefined
      await lifespan?.shutdown()
    },
  }
}
