/**
 * The error tsgiup shows a user: one line on stderr and an exit code, never a stack. Anything
 * else that escapes the runner is a bug in tsgiup and is shown with its stack.
 */

/** Exit code of a command-line mistake: an unknown option, a bad value, a missing argument. */
export const EXIT_USAGE = 2
/** Exit code of everything else a user can get wrong: the app file, the address, TLS files. */
export const EXIT_FAILURE = 1

/** A mistake of the user's, reported as `tsgiup: <message>` with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A usage mistake (exit code 2); the message gets a pointer to `--help`. */
export function usageError(message: string): CliError {
  return new CliError(`${message} (see tsgiup --help)`, EXIT_USAGE)
}

/** The message of anything thrown, without its stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return String(err)
}

/** The message of anything thrown, on one line (a multi-line message joined with spaces). */
export function messageLine(err: unknown): string {
  return messageOf(err)
    .trim()
    .replace(/\s*\n\s*/g, ' ')
}

/** The `code` of a node system error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
