/**
 * The tsgiup runner: `run(argv, io)` does everything the `tsgiup` command does and resolves
 * with its exit code. It parses the command line, answers `--help` and `--version`, publishes
 * the environment, and takes this process's role: the reload supervisor (`-r`), the cluster
 * primary (`--workers`), a cluster worker, or a single serving process. A user's mistake is
 * one `tsgiup: …` line on stderr and a non-zero code (2 for the command line, 1 otherwise).
 *
 * @example
 * process.exit(await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }))
 * @see Plack::Runner
 */
import cluster from 'node:cluster'
import { runPrimary } from './cluster.js'
import { publishEnvironment } from './environment.js'
import { CliError, EXIT_FAILURE, messageOf } from './errors.js'
import { HELP, version } from './help.js'
import { locateAppFile } from './load.js'
import { parseCommandLine } from './options.js'
import { pinnedOptions, runSupervisor, SUPERVISED } from './reload.js'
import { type Output, serveApp } from './serve-app.js'
import { sendToParent } from './signals.js'

/** What {@link run} writes to and reads from. */
export interface RunIo extends Output {
  /** The working directory app files and paths are resolved from. @default process.cwd() */
  readonly cwd?: string
  /** Environment variables: read for defaults, and `TSGI_ENV`/`NODE_ENV` are set in them. @default process.env */
  readonly env?: Record<string, string | undefined>
}

/** Runs tsgiup with `argv` (the arguments after the command name); resolves with the exit code. */
export async function run(argv: readonly string[], io: RunIo): Promise<number> {
  const env = io.env ?? process.env
  const cwd = io.cwd ?? process.cwd()
  const worker = cluster.isWorker
  const supervised = !worker && env[SUPERVISED] === '1'
  if (supervised) delete env[SUPERVISED]
  try {
    const parsed = parseCommandLine(argv, env)
    const opts = supervised || worker ? pinnedOptions(parsed, env) : parsed
    if (opts.help) {
      io.stdout.write(HELP)
      return 0
    }
    if (opts.version) {
      io.stdout.write(`tsgiup ${version()} (node ${process.version})\n`)
      return 0
    }
    publishEnvironment(opts.environment, env)
    const file = opts.evalCode === undefined ? locateAppFile(opts.appFile, cwd) : undefined
    if (worker) return await serveApp(opts, file, cwd, io, 'worker')
    if (opts.reload && !supervised) return await runSupervisor(opts, file, argv, cwd, io)
    if (opts.workers !== undefined) return await runPrimary(opts, argv, io, supervised)
    return await serveApp(opts, file, cwd, io, supervised ? 'supervised' : 'single')
  } catch (err) {
    if (!(err instanceof CliError)) throw err
    if (worker) await sendToParent({ tsgiup: 'fatal', message: err.message, exitCode: err.exitCode })
    else io.stderr.write(`tsgiup: ${err.message}\n`)
    return err.exitCode
  }
}

/** Runs tsgiup for the `tsgiup` command and exits the process with its code. */
export async function main(): Promise<never> {
  let code: number
  try {
    code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
  } catch (err) {
    process.stderr.write(`tsgiup: internal error: ${err instanceof Error ? err.stack : messageOf(err)}\n`)
    code = EXIT_FAILURE
  }
  process.exit(code)
}
