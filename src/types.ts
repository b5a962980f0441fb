/**
 * The TSGI 1.0 interface: the types shared by servers, middleware and applications.
 * `docs/spec.md` is the normative text; this file is its TypeScript form.
 *
 * A middleware that adds an env key declares it here by module augmentation, in its own file:
 *
 * @example
 * declare module 'tsgi' { interface Env { 'tsgix.myKey'?: string } }
 */

/** One body chunk: strings are written as UTF-8. */
export type Chunk = string | Uint8Array

/** Flat header list: `[name, value, name, value, ...]`. Order is kept, duplicates are allowed. */
export type HeaderList = string[]

/**
 * A file to send, whole or a byte range (`end` inclusive). It is also async-iterable, so any
 * consumer can read it. Only `fileBody(path, range)` makes one, and `isFileBody()` is how a
 * server or middleware recognises it: an object of this shape built another way (an
 * `fs.ReadStream`, which has a `path`, or a hand-made `{ path, [Symbol.asyncIterator] }`) is an
 * ordinary async-iterable body, read as a stream and then closed.
 */
export interface FileBody extends AsyncIterable<Uint8Array> {
  readonly path: string
  readonly start?: number
  readonly end?: number
}

/** A response body: an array of chunks, any async iterable of chunks, or a file made by `fileBody()`. */
export type Body = Chunk[] | AsyncIterable<Chunk> | FileBody

/** The finished response: status, headers, body. */
export type Triple = [status: number, headers: HeaderList, body: Body]

/** A streaming response's head: the body follows through the returned {@link Writer}. */
export type Head = [status: number, headers: HeaderList]

/**
 * Where a streaming response's body goes. `write` resolves when the chunk has been handed to the
 * transport and it can take more (backpressure); it rejects once the request was aborted.
 */
export interface Writer {
  write(chunk: Chunk): Promise<void>
  close(): Promise<void>
}

/** Finishes a delayed response: with a triple it returns nothing; with a head it returns a Writer. */
export interface Responder {
  (response: Triple): void
  (response: Head): Writer
  (response: Triple | Head): Writer | undefined
}

/** A delayed response: the server calls it with a responder. */
export type Delayed = (respond: Responder) => void | Promise<void>

/** What an application returns. */
export type AppResult = Triple | Delayed

/** A TSGI application. */
export type App = (env: Env) => AppResult | PromiseLike<AppResult>

/** Wraps an application in another one. */
export type Middleware = (app: App) => App

/** The error stream of `tsgi.errors`: anything with a `write` method. */
export interface ErrorStream {
  write(message: string): unknown
}

/** The request body stream of `tsgi.input`: an async iterable of bytes (a node Readable on the node server). */
export type InputStream = AsyncIterable<Uint8Array>

/** Why `tsgix.signal` aborted. */
export type AbortReason = 'client-disconnected' | 'server-shutdown' | 'timeout' | 'server-error'

/** Levels of `tsgix.logger`, as PSGI's psgix.logger. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/** `tsgix.logger`: a function that takes a level and a message. */
export type Logger = (entry: { level: LogLevel; message: string }) => void

/** A function run after the response is done (`tsgix.cleanup.handlers`); it gets the env. */
export type CleanupHandler = (env: Env) => void | Promise<void>

/** Sends a `103 Early Hints` interim response with the given headers (`tsgix.early_hints`). */
export type EarlyHints = (headers: HeaderList) => void

/**
 * The request environment. The CGI keys follow PSGI's rules; `tsgi.*` keys are required;
 * `tsgix.*` keys are optional extensions. Any other key may be added by middleware.
 */
export interface Env {
  REQUEST_METHOD: string
  SCRIPT_NAME: string
  PATH_INFO: string
  REQUEST_URI: string
  QUERY_STRING: string
  SERVER_NAME: string
  SERVER_PORT: string
  SERVER_PROTOCOL: string
  CONTENT_LENGTH?: string
  CONTENT_TYPE?: string
  REMOTE_ADDR?: string
  REMOTE_PORT?: string
  REMOTE_USER?: string

  'tsgi.version': readonly [1, 0]
  'tsgi.url_scheme': 'http' | 'https'
  'tsgi.input': InputStream
  'tsgi.errors': ErrorStream
  'tsgi.multithread': boolean
  'tsgi.multiprocess': boolean
  'tsgi.run_once': boolean
  'tsgi.nonblocking': boolean
  'tsgi.streaming': boolean

  'tsgix.signal'?: AbortSignal
  'tsgix.cleanup'?: boolean
  'tsgix.cleanup.handlers'?: CleanupHandler[]
  'tsgix.logger'?: Logger
  'tsgix.input.buffered'?: boolean
  /** The raw socket on CONNECT and upgrade requests. */
  'tsgix.io'?: unknown
  /** Bytes the server read past the request head on CONNECT and upgrade requests. */
  'tsgix.io.head'?: Uint8Array
  'tsgix.early_hints'?: EarlyHints
  'tsgix.harakiri'?: boolean
  'tsgix.harakiri.commit'?: boolean
  /** A custom reason phrase for the status line on HTTP/1.x (ignored on HTTP/2). */
  'tsgix.reason_phrase'?: string
  /** Route parameters of the mount paths that matched, outermost first, merged. */
  'tsgix.route.params'?: Record<string, string | string[]>

  [key: string]: unknown
}

/** True for a streaming response head (two elements) as opposed to a triple. */
export function isTriple(res: Triple | Head): res is Triple {
  return res.length >= 3
}
