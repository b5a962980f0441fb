/**
 * Environments, as plackup's: `development` wraps the app in AccessLog (to stderr), StackTrace
 * and Lint; any other name (`production`, `test`, …) adds nothing. `--access-log FILE` sends
 * the access log to FILE instead, in any environment. The name is published as `TSGI_ENV`,
 * and as `NODE_ENV` when that is unset.
 */
import { createWriteStream, openSync } from 'node:fs'
import { resolve } from 'node:path'
import { accessLog } from '../../middleware/access-log.js'
import { lint } from '../../middleware/lint.js'
import { stackTrace } from '../../middleware/stack-trace.js'
import type { App } from '../types.js'
import { CliError, errorCode, messageOf } from './errors.js'

/** An app wrapped for its environment, and what to close at shutdown. */
export interface EnvironmentApp {
  readonly app: App
  /** Flushes and closes the access log file, if any. */
  close(): Promise<void>
}

/** Publishes the environment's name to the process (and the app) as environment variables. */
export function publishEnvironment(name: string, env: Record<string, string | undefined>): void {
  env.TSGI_ENV = name
  env.NODE_ENV ??= name
}

/** Wraps `app` for `environment`; the log goes to `accessLogFile` (resolved from `cwd`) or `stderr`. */
export function wrapForEnvironment(
  app: App,
  environment: string,
  accessLogFile: string | undefined,
  cwd: string,
  stderr: { write(text: string): unknown },
): EnvironmentApp {
  const development = environment === 'development'
  let wrapped = app
  if (development) wrapped = stackTrace({ allowInProduction: true })(lint()(wrapped))
  if (accessLogFile === undefined) {
    if (development) wrapped = accessLog({ logger: (line) => void stderr.write(line) })(wrapped)
    return { app: wrapped, close: async () => {} }
  }
  const path = resolve(cwd, accessLogFile)
  let fd: number
  try {
    fd = openSync(path, 'a')
  } catch (err) {
    throw new CliError(`cannot open the access log ${accessLogFile}: ${errorCode(err) ?? messageOf(err)}`)
  }
  const stream = createWriteStream(path, { fd })
  stream.on('error', (err) => void stderr.write(`tsgiup: access log ${accessLogFile}: ${err.message}\n`))
  return {
    app: accessLog({ logger: (line) => void stream.write(line) })(wrapped),
    close: () => new Promise<void>((done) => void stream.end(() => done())),
  }
}
