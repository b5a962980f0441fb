/**
 * The CGI server for TSGI applications (`tsgi/server/cgi`): {@link runCgi} answers the one
 * request of a CGI process (RFC 3875) with an app, the request from the process environment
 * and standard input, the response on standard output, for a `#!/usr/bin/env node` script run
 * by a web server's CGI module (lighttpd `mod_cgi`, Apache `mod_cgi` or `mod_cgid`).
 *
 * - The env comes from the CGI meta-variables (`cgi-env.ts`, shared with FastCGI), with
 *   `tsgi.run_once` and `tsgi.multiprocess` true. `tsgi.input` is standard input as it arrives,
 *   at most `CONTENT_LENGTH` bytes of it (RFC 3875 §4.2), never read whole first.
 * - The response goes out as it is written (`Status:` and the header fields, then the body),
 *   with backpressure; a body of unknown length is chunk-framed for lighttpd, which decodes it,
 *   so a response cut short stays visibly cut (see `cgi-transport.ts`).
 * - The front end ending the request (SIGTERM, which lighttpd and Apache send when the client
 *   leaves, or a closed pipe) aborts `tsgix.signal` with 'client-disconnected'.
 * - The promise resolves once the response is out and the cleanup handlers (and the app's
 *   lifespan shutdown) ran: the script may then exit.
 *
 * @example
 * #!/usr/bin/env node
 * import { runCgi } from 'tsgi/server/cgi'
 * import app from './app.js'
 * await runCgi(app)
 */
import type { Writable } from 'node:stream'
import { checkOptions, optionBoolean, optionFunction, optionNumber } from '../options.js'
import type { App, ErrorStream, InputStream, Logger } from '../types.js'
import { type CgiVariables, cgiEnv } from './cgi-env.js'
import { CgiTransport } from './cgi-transport.js'
import { type StartedLifespan, startLifespan } from './lifespan.js'
import type { EnvConfig } from './node-env.js'
import { describeError, Exchange, pipelineContext } from './pipeline.js'

export { ResponseAbortedError } from './pipeline.js'

/** Options of {@link runCgi}. */
export interface CgiOptions {
  /** Where `tsgi.errors` writes (the front end puts a CGI's stderr in its error log). @default process.stderr */
  readonly errors?: ErrorStream
  /** Given to applications as `tsgix.logger`. */
  readonly logger?: Logger
  /** Milliseconds the application has to complete its response; then `tsgix.signal` aborts with 'timeout' (503, or a cut response once the head is out). 0 for none. @default 0 */
  readonly requestTimeout?: number
  /** The request's CGI meta-variables. @default process.env */
  readonly env?: CgiVariables
  /** The request body. @default process.stdin */
  readonly input?: AsyncIterable<Uint8Array>
  /** Where the response goes. @default process.stdout */
  readonly output?: Writable
  /**
   * Frame a body of unknown length with chunked transfer coding, so that a response cut short
   * cannot look complete. Only for a front end that decodes it (RFC 3875 has no such framing).
   * @default true under lighttpd 1.4.56 or later (by `SERVER_SOFTWARE`), else false
   */
  readonly chunked?: boolean
  /** Treat SIGTERM as the front end ending the request (it aborts `tsgix.signal` and the process stays up until the cleanup handlers ran). @default true */
  readonly sigterm?: boolean
  /** Run the app's lifespan hooks: startup before the request, shutdown after it. @default true */
  readonly lifespan?: boolean
}

const KEYS = [
  'errors',
  'logger',
  'requestTimeout',
  'env',
  'input',
  'output',
  'chunked',
  'sigterm',
  'lifespan',
] as const

const LIGHTTPD = /^lighttpd\/1\.4\.(\d+)(?:\D|$)/

/** True for a front end that decodes a CGI body framed with chunked transfer coding. */
function decodesChunked(software: string | undefined): boolean {
  const minor = software === undefined ? undefined : LIGHTTPD.exec(software)?.[1]
  return minor !== undefined && Number(minor) >= 56
}

/**
 * `tsgi.input`: `source()` (standard input) read as it arrives, up to `length` bytes when the
 * front end gave one (it need not send an end after them), else to its end. A body that ends
 * short of its length fails the read.
 */
async function* requestBody(
  source: () => AsyncIterable<Uint8Array>,
  length: number | undefined,
): AsyncGenerator<Uint8Array> {
  if (length === 0) return
  let left = length ?? Number.POSITIVE_INFINITY
  for await (const chunk of source()) {
    if (chunk.byteLength >= left) {
      yield chunk.byteLength === left ? chunk : chunk.subarray(0, left)
      return
    }
    left -= chunk.byteLength
    yield chunk
  }
  if (length !== undefined) {
    throw new Error(`tsgi: the request body ended after ${length - left} of its ${length} bytes`)
  }
}

function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null
}

/** {@link CgiOptions}, checked, with their defaults. */
interface CgiSetup {
  readonly errors: ErrorStream
  readonly config: EnvConfig
  readonly requestTimeout: number
  readonly vars: CgiVariables
  readonly input: AsyncIterable<Uint8Array> | undefined
  readonly output: Writable
  readonly chunked: boolean
  readonly sigterm: boolean
  readonly lifespan: boolean
}

const COMPONENT = 'runCgi'

function readOptions(options: unknown): CgiSetup {
  const opts = checkOptions(COMPONENT, options, KEYS)
  const { errors, env, input, output } = opts
  if (errors !== undefined && (!isObject(errors) || typeof errors.write !== 'function')) {
    throw new TypeError(`${COMPONENT}: option 'errors' must be an object with a write method`)
  }
  if (env !== undefined && !isObject(env)) {
    throw new TypeError(`${COMPONENT}: option 'env' must be an object of CGI variables`)
  }
  if (input !== undefined && (!isObject(input) || typeof input[Symbol.asyncIterator] !== 'function')) {
    throw new TypeError(`${COMPONENT}: option 'input' must be an async iterable of bytes (a Readable)`)
  }
  if (
    output !== undefined &&
    (!isObject(output) || typeof output.write !== 'function' || typeof output.end !== 'function')
  ) {
    throw new TypeError(`${COMPONENT}: option 'output' must be a Writable`)
  }
  const errorStream = (errors as ErrorStream | undefined) ?? process.stderr
  const vars = (env as CgiVariables | undefined) ?? process.env
  return {
    errors: errorStream,
    config: {
      errors: errorStream,
      logger: optionFunction<Logger>(COMPONENT, opts, 'logger'),
      multiprocess: true,
    },
    requestTimeout: optionNumber(COMPONENT, opts, 'requestTimeout', { min: 0 }) ?? 0,
    vars,
    input: input as AsyncIterable<Uint8Array> | undefined,
    output: (output as Writable | undefined) ?? process.stdout,
    chunked: optionBoolean(COMPONENT, opts, 'chunked') ?? decodesChunked(vars.SERVER_SOFTWARE),
    sigterm: optionBoolean(COMPONENT, opts, 'sigterm') ?? true,
    lifespan: optionBoolean(COMPONENT, opts, 'lifespan') ?? true,
  }
}

/**
 * Answers the CGI request of this process with `app` and resolves once the response is out and
 * the cleanup handlers ran (it never rejects: failures are answered and logged). Throws a
 * TypeError for bad options.
 */
export function runCgi(app: App, options: CgiOptions = {}): Promise<void> {
  if (typeof app !== 'function') throw new TypeError(`${COMPONENT}: app must be a function`)
  const setup = readOptions(options)
  const ctx = pipelineContext(app, setup.errors, setup.requestTimeout)
  const transport = new CgiTransport(setup.output, setup.chunked)
  const ex = new Exchange(ctx, transport)
  const { input, vars } = setup
  const length = vars.CONTENT_LENGTH
  const body: InputStream = requestBody(
    input === undefined ? () => process.stdin : () => input,
    length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
  )
  const onSigterm = () => transport.lost()
  if (setup.sigterm) process.on('SIGTERM', onSigterm)

  return (async () => {
    try {
      let started: StartedLifespan | undefined
      try {
        if (setup.lifespan) started = await startLifespan(app, setup.errors)
      } catch (err) {
        ex.report(`lifespan startup failed: ${describeError(err)}`)
        ex.plain(500)
      }
      if (!transport.headSent && !transport.gone) {
        const env = cgiEnv(vars, body, setup.config, ex, true, ex.earlyHints)
        if (env === undefined) ex.plain(400)
        else ex.run(env)
      }
      await transport.settled
      while (ctx.cleanups.size > 0) await Promise.all(ctx.cleanups)
      await started?.shutdown()
    } finally {
      if (setup.sigterm) process.off('SIGTERM', onSigterm)
    }
  })()
}
