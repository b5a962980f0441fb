/**
 * Takes an application's answer to the wire for the node server: runs the app, accepts a
 * triple or a delayed response, validates the head (and the reason phrase) before a byte goes
 * out, picks the body writer, and serves the Writer of streaming responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { discardBody, isAsyncIterable, isPromiseLike } from '../body.js'
import { isHeaderName, validateHead } from '../headers.js'
import { statusWithNoEntityBody } from '../status.js'
import type { AppResult, Chunk, Delayed, FileBody, HeaderList, Responder, Writer } from '../types.js'
import { declaredLength, isContentLength, isTransferEncoding, lengthMismatch } from './framing.js'
import { buildEnv, type EnvTarget } from './node-env.js'
import { Exchange, type ServerContext } from './node-exchange.js'
import { ResponseAbortedError } from './node-lifecycle.js'
import { measureArray, sendFile, streamIterable, transportCheck, typeName } from './node-write.js'
import { deadWriter, liveWriter } from './node-writer.js'

const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/
const OBS_TEXT = /[\x80-\xff]/

/** Handles one node request with `ctx.app`. */
export function handleRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: EnvTarget,
) {
  const ex = new Exchange(ctx, req, res)
  const env = buildEnv(req, ctx.env, target, ex, ex.earlyHints)
  if (env === undefined) {
    ex.plain(400, 'Bad Request', [])
    return
  }
  ex.env = env
  if (ctx.closing) res.shouldKeepAlive = false
  ctx.inflight.add(ex)
  ;(res as ExchangeHolder)[EXCHANGE] = ex
  res.on('close', onResponseClose)
  if (res.socket === null) waitForSocket(req, res as ExchangeHolder)
  if (ctx.requestTimeout > 0) ex.timer = setTimeout(onTimeout, ctx.requestTimeout, ex)
  let result: AppResult | PromiseLike<AppResult>
  try {
    result = ctx.app(env)
  } catch (err) {
    ex.fail(err)
    return
  }
  if (isPromiseLike<AppResult>(result)) {
    result.then(
      (r) => accept(ex, r),
      (err: unknown) => ex.fail(err),
    )
  } else accept(ex, result)
}

const EXCHANGE = Symbol('tsgi.exchange')
type ExchangeHolder = ServerResponse & { [EXCHANGE]?: Exchange | undefined }

/** One listener shared by every response ('close' fires once): no closure per request. */
function onResponseClose(this: ExchangeHolder): void {
  const ex = this[EXCHANGE]
  this[EXCHANGE] = undefined
  ex?.onClose()
}

/**
 * A pipelined request queues behind the responses before it: its response has no socket yet,
 * and gets no 'close' at all if the connection dies first. The socket's 'close' ends it then,
 * so its signal aborts and its cleanup handlers run.
 */
function waitForSocket(req: IncomingMessage, res: ExchangeHolder): void {
  const socket = req.socket
  const onSocketClose = () => onResponseClose.call(res)
  socket.once('close', onSocketClose)
  res.once('close', () => socket.off('close', onSocketClose))
}

function onTimeout(ex: Exchange): void {
  ex.timer = undefined
  if (ex.res.writableFinished) return
  ex.abort('timeout')
  if (ex.res.headersSent) ex.res.destroy()
  else ex.plain(503, 'Service Unavailable', ['Connection', 'close'])
}

/** Takes what the app returned. */
export function accept(ex: Exchange, result: unknown): void {
  if (Array.isArray(result)) respondTriple(ex, result)
  else if (typeof result === 'function') runDelayed(ex, result as Delayed)
  else
    ex.fail(new TypeError(`app returned ${typeName(result)}: expected [status, headers, body] or a function`))
}

function runDelayed(ex: Exchange, delayed: Delayed): void {
  const responder = ((r: unknown) => respond(ex, r)) as Responder
  try {
    const ran = delayed(responder)
    if (isPromiseLike(ran)) ran.then(undefined, (err: unknown) => ex.fail(err))
  } catch (err) {
    ex.fail(err)
  }
}

/**
 * The responder of a delayed response. A second call throws (spec 4.4) unless the request was
 * aborted: output after an abort is discarded. Other misuse is reported and answered.
 */
function respond(ex: Exchange, r: unknown): Writer | undefined {
  if (ex.responded && ex.abortReason === undefined) {
    if (Array.isArray(r)) void discardBody(r[2])
    throw new Error('tsgi: respond() called twice')
  }
  if (Array.isArray(r) && r.length >= 3) {
    respondTriple(ex, r)
    return undefined
  }
  if (!Array.isArray(r) || r.length !== 2) {
    ex.fail(new TypeError(`respond() takes [status, headers, body] or [status, headers], got ${typeName(r)}`))
    return deadWriter(new Error('tsgi: respond() was called with an invalid response'))
  }
  return startWriter(ex, r[0], r[1])
}

/** False (and the body freed) when a response was already taken or the request is aborted. */
function take(ex: Exchange, body: unknown): boolean {
  if (ex.abortReason !== undefined) {
    void discardBody(body)
    return false
  }
  if (ex.responded) {
    void discardBody(body)
    ex.report('respond() called after a response was already given; ignored')
    return false
  }
  ex.responded = true
  return true
}

/** Field names already seen to be tokens: apps send the same few names again and again. */
const knownNames = new Set<string>()
const NOT_VISIBLE = /[^\t\x20-\x7e]/

/**
 * The common head, checked in one pass: a final status, known-good names, values of tab and
 * visible ASCII only, and no Content-Length or Transfer-Encoding. Anything else (valid or not)
 * takes the full checks, which give the messages.
 */
function plainHead(status: unknown, headers: unknown): boolean {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 999) return false
  if (!Array.isArray(headers) || headers.length % 2 !== 0) return false
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i]
    const value: unknown = headers[i + 1]
    if (typeof name !== 'string' || typeof value !== 'string' || NOT_VISIBLE.test(value)) return false
    if (!knownNames.has(name)) {
      if (!isHeaderName(name)) return false
      if (knownNames.size < 1024) knownNames.add(name)
    }
    if ((name.length === 14 || name.length === 17) && (isContentLength(name) || isTransferEncoding(name))) {
      return false
    }
  }
  return true
}

/** Checks the head and stores it; a message on failure. */
function setHead(ex: Exchange, status: unknown, headers: unknown): string | undefined {
  const plain = plainHead(status, headers)
  let checked: string | boolean = false
  let declared: number | undefined
  if (!plain) {
    const problem = validateHead(status, headers)
    if (problem !== undefined) return problem
    if ((status as number) < 200) {
      return `invalid status ${status as number}: a 1xx status is interim, not a final response (use tsgix.early_hints or tsgix.io)`
    }
    checked = transportCheck(headers as HeaderList)
    if (typeof checked === 'string') return checked
    const length = declaredLength(headers as HeaderList)
    if (typeof length === 'string') return length
    declared = length
  }
  ex.framed = !plain
  const reason = ex.env['tsgix.reason_phrase']
  if (reason !== undefined && (typeof reason !== 'string' || BAD_REASON.test(reason))) {
    return `invalid tsgix.reason_phrase ${JSON.stringify(reason)}: must be a string without control characters`
  }
  ex.status = status as number
  ex.headers = headers as HeaderList
  ex.reason = reason
  ex.obsText = checked || (reason !== undefined && OBS_TEXT.test(reason))
  ex.bodyless = statusWithNoEntityBody(ex.status) || ex.req.method === 'HEAD'
  ex.declared = ex.bodyless ? undefined : declared
  return undefined
}

function respondTriple(ex: Exchange, triple: unknown[]): void {
  const [status, headers, body] = triple
  if (!take(ex, body)) return
  let problem = setHead(ex, status, headers)
  let length: number | string | undefined
  if (problem === undefined) {
    if (Array.isArray(body)) length = measureArray(body)
    else if (!isAsyncIterable(body))
      problem = `invalid body: expected an array, an async iterable or a FileBody, got ${typeName(body)}`
    if (typeof length === 'string') problem = length
    else if (length !== undefined && ex.declared !== undefined && ex.declared !== length)
      problem = lengthMismatch(ex.declared, length)
  }
  if (problem !== undefined) {
    void discardBody(body)
    ex.invalid(problem)
    return
  }
  if (typeof length === 'number') {
    writeArray(ex, body as Chunk[], length)
  } else if (statusWithNoEntityBody(ex.status)) {
    void discardBody(body)
    if (ex.writeHead(undefined)) ex.res.end()
  } else if (typeof (body as { path?: unknown }).path === 'string')
    sendFile(ex, body as FileBody) // async-iterable, so a FileBody
  else if (ex.bodyless) {
    void discardBody(body)
    if (ex.writeHead(undefined)) ex.res.end()
  } else void streamIterable(ex, body as AsyncIterable<unknown>)
}

function writeArray(ex: Exchange, body: Chunk[], length: number): void {
  if (!ex.writeHead(statusWithNoEntityBody(ex.status) ? undefined : length)) return
  const res = ex.res
  const n = body.length
  if (n === 0 || ex.bodyless) res.end()
  else if (n === 1) res.end(body[0])
  else {
    for (let i = 0; i < n - 1; i++) res.write(body[i]!)
    res.end(body[n - 1])
  }
}

function startWriter(ex: Exchange, status: unknown, headers: unknown): Writer {
  if (!take(ex, undefined)) {
    const reason = ex.abortReason
    return deadWriter(
      reason !== undefined ? new ResponseAbortedError(reason) : new Error('tsgi: respond() called twice'),
    )
  }
  const problem = setHead(ex, status, headers)
  if (problem !== undefined) {
    ex.invalid(problem)
    return deadWriter(new Error(`tsgi: ${problem}`))
  }
  if (!ex.writeHead(undefined)) return deadWriter(new Error('tsgi: the response head was refused'))
  if (ex.bodyless) ex.res.end()
  else ex.res.flushHeaders()
  return liveWriter(ex)
}
