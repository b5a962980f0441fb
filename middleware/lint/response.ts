/**
 * Lint's checks on what an app returns: the result's shape, the status and headers (the same
 * validation the server runs, plus Lint-only rules), the body, and, without buffering, every
 * chunk of a streamed body and every call on a delayed response's responder and writer.
 * Problems go to a {@link Report}, which throws in strict mode and logs otherwise.
 */
import { chunkLength, isAsyncIterable, isFileBody, isPromiseLike } from '../../src/body.js'
import { headerGet, validateHead } from '../../src/headers.js'
import { statusWithNoEntityBody } from '../../src/status.js'
import type { AppResult, Chunk, Delayed, Head, Responder, Triple, Writer } from '../../src/types.js'
import { codePoint, show } from './show.js'

/** Receives one problem (a message without the layer label); throws in strict mode. */
export type Report = (problem: string) => void

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters being rejected
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/
const WIDE = /[\u{100}-\u{10FFFF}]/u

const SHAPE = 'must be a [status, headers, body] array, a function (a delayed response) or a promise of one'

/** What is wrong with one body chunk, or undefined. */
function chunkProblem(chunk: unknown): string | undefined {
  return typeof chunk === 'string' || chunk instanceof Uint8Array
    ? undefined
    : `must be a string or Uint8Array, got ${show(chunk)}`
}

/**
 * What is wrong with a status and header list: the server's validation, then Lint's own rules.
 * `handshake`: the request is a WebSocket handshake, which `101` answers.
 */
export function headProblem(status: unknown, headers: unknown, handshake = false): string | undefined {
  const invalid = validateHead(status, headers)
  if (invalid !== undefined) return invalid
  if ((status as number) < 200 && !(status === 101 && handshake)) {
    return `status ${status as number} is interim, not a final response (use tsgix.early_hints or tsgix.io)`
  }
  const list = headers as string[]
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!
    const value = list[i + 1]!
    if (name.length === 6 && name.toLowerCase() === 'status') {
      return `header ${JSON.stringify(name)} is not allowed (the status is the first element)`
    }
    if (name.length === 14 && name.toLowerCase() === 'content-length' && !/^\d+$/.test(value.trim())) {
      return `header ${JSON.stringify(name)} must be a number of bytes, got ${JSON.stringify(value)}`
    }
    const last = name[name.length - 1]
    if (last === '-' || last === '_')
      return `header name ${JSON.stringify(name)} must not end with '-' or '_'`
    const control = CONTROL.exec(value)
    if (control) {
      return `value of header ${JSON.stringify(name)} contains control character ${codePoint(control[0].charCodeAt(0))}`
    }
    const wide = WIDE.exec(value)
    if (wide) {
      return `value of header ${JSON.stringify(name)} contains ${codePoint(wide[0].codePointAt(0)!)}: header values are bytes (encode it)`
    }
  }
  return undefined
}

/** What is wrong with a triple's body, or undefined. Streamed chunks are checked later, as they come. */
function bodyProblem(body: unknown, headers: string[]): string | undefined {
  if (Array.isArray(body)) {
    let length = 0
    for (let i = 0; i < body.length; i++) {
      const problem = chunkProblem(body[i])
      if (problem) return `body[${i}] ${problem}`
      length += chunkLength(body[i] as Chunk)
    }
    // An empty body with a length is what HEAD answers carry (the Head middleware makes them).
    const declared = length > 0 ? headerGet(headers, 'Content-Length') : undefined
    if (declared !== undefined && Number(declared.trim()) !== length) {
      return `body of ${length} bytes does not match its Content-Length ${declared.trim()}`
    }
    return undefined
  }
  // Only what fileBody() made is a FileBody; an object with a `path` and no brand (an
  // fs.ReadStream) is an async iterable, checked chunk by chunk like any other.
  if (isFileBody(body)) {
    const { start, end } = body
    for (const [key, value] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        return `FileBody ${key} must be an integer >= 0, got ${show(value)}`
      }
    }
    if (start !== undefined && end !== undefined && end < start - 1) {
      return `FileBody range is inverted (start ${start}, end ${end})`
    }
    return undefined
  }
  if (isAsyncIterable(body)) return undefined
  return `body must be an array of chunks, an async iterable or a FileBody, got ${show(body)}`
}

/** An async iterable that checks each chunk as it passes; in strict mode a bad one closes the source and throws. */
function checkedIterable(body: AsyncIterable<unknown>, where: string, report: Report): AsyncIterable<Chunk> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Chunk> {
      const source = body[Symbol.asyncIterator]()
      let index = 0
      return {
        async next() {
          const step = await source.next()
          if (step.done) return step
          const problem = chunkProblem(step.value)
          if (problem) {
            try {
              report(`${where}: streamed body chunk ${index} ${problem}`)
            } catch (err) {
              await source.return?.().catch(() => {})
              throw err
            }
          }
          index++
          return step as IteratorResult<Chunk>
        },
        async return(value?: unknown) {
          const step = source.return ? await source.return(value) : { done: true as const, value }
          return step as IteratorResult<Chunk>
        },
      }
    },
  }
}

/** Checks a triple; returns it, with a streamed body wrapped so its chunks are checked too. */
function lintTriple(res: unknown[], where: string, report: Report, handshake: boolean): Triple {
  const problem =
    headProblem(res[0], res[1], handshake) ??
    bodyProblem(res[2], statusWithNoEntityBody(res[0] as number) ? [] : (res[1] as string[]))
  if (problem) report(`${where}: ${problem}`)
  const body = res[2]
  if (!Array.isArray(body) && isAsyncIterable(body) && !isFileBody(body)) {
    return [res[0], res[1], checkedIterable(body, where, report)] as Triple
  }
  return res as Triple
}

/** A writer that refuses bad chunks and calls after close(); in strict mode they reject. */
function lintWriter(writer: Writer, report: Report): Writer {
  let closed = false
  let index = 0
  const refuse = (problem: string): Promise<void> | undefined => {
    try {
      report(problem)
      return undefined
    } catch (err) {
      return Promise.reject(err)
    }
  }
  return {
    write(chunk) {
      let problem: string | undefined
      if (closed) problem = 'writer.write() called after close()'
      else {
        const bad = chunkProblem(chunk)
        if (bad) problem = `writer.write() chunk ${index} ${bad}`
      }
      const refused = problem ? refuse(problem) : undefined
      if (refused) return refused
      index++
      return writer.write(chunk)
    },
    close() {
      const refused = closed ? refuse('writer.close() called a second time') : undefined
      if (refused) return refused
      closed = true
      return writer.close()
    },
  }
}

/** A delayed response whose responder checks what it is given, once, and hands out a checked writer. */
function lintDelayed(delayed: Delayed, report: Report, handshake: boolean): Delayed {
  return function lintDelayed(respond) {
    let responded = false
    const checked = (res: unknown): Writer | undefined => {
      if (responded) report('respond() called a second time')
      responded = true
      if (!Array.isArray(res) || (res.length !== 2 && res.length !== 3)) {
        report(`respond() must get [status, headers] or [status, headers, body], got ${show(res)}`)
        return respond(res as Triple | Head)
      }
      if (res.length === 3) {
        respond(lintTriple(res, 'respond()', report, handshake))
        return undefined
      }
      const problem = headProblem(res[0], res[1], handshake)
      if (problem) report(`respond(): ${problem}`)
      return lintWriter(respond(res as Head), report)
    }
    return delayed(checked as Responder)
  }
}

function lintSettled(res: unknown, report: Report, handshake: boolean): AppResult {
  if (typeof res === 'function') return lintDelayed(res as Delayed, report, handshake)
  if (!Array.isArray(res)) {
    report(`response ${SHAPE}, got ${show(res)}`)
    return res as AppResult
  }
  if (res.length !== 3) report(`response must have 3 elements [status, headers, body], got ${res.length}`)
  return lintTriple(res, 'response', report, handshake)
}

/**
 * Checks an app's result, keeping its form: a plain result stays plain, a promise stays a
 * promise. On a WebSocket `handshake` a `101` (what `accept()` answers) is allowed.
 */
export function lintResult(res: unknown, report: Report, handshake = false): AppResult | Promise<AppResult> {
  if (isPromiseLike<unknown>(res)) return Promise.resolve(res).then((r) => lintSettled(r, report, handshake))
  return lintSettled(res, report, handshake)
}
