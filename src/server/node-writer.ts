/**
 * The Writer of a streaming response on the node server: writes with backpressure (a write
 * resolves on 'drain'), a body held to its declared Content-Length, and the writer handed out
 * for a refused head.
 */
import type { Chunk, Writer } from '../types.js'
import { lengthMismatch } from './framing.js'
import type { Exchange } from './node-exchange.js'
import { RESOLVED, ResponseAbortedError, rejected } from './node-lifecycle.js'
import { byteLength, isChunk, typeName } from './node-write.js'

/** The writer of a response whose head went out. */
export function liveWriter(ex: Exchange): Writer {
  return { write: (chunk) => writerWrite(ex, chunk), close: () => writerClose(ex) }
}

function writerWrite(ex: Exchange, chunk: Chunk): Promise<void> {
  if (ex.abortReason !== undefined) return rejected(new ResponseAbortedError(ex.abortReason))
  if (ex.writerClosed) return rejected(new Error('tsgi: write() after close()'))
  if (!isChunk(chunk))
    return rejected(new TypeError(`tsgi: write() takes a string or Uint8Array, got ${typeName(chunk)}`))
  if (ex.bodyless || chunk.length === 0) return RESOLVED
  if (ex.declared !== undefined) {
    ex.sent += byteLength(chunk)
    if (ex.sent > ex.declared) return failWriter(ex, lengthMismatch(ex.declared, ex.sent, true))
  }
  return ex.res.write(chunk) ? RESOLVED : ex.waitDrain()
}

/** Ends the body; rejects when it is shorter than its Content-Length (the response failed). */
function writerClose(ex: Exchange): Promise<void> {
  if (ex.abortReason !== undefined || ex.writerClosed) return RESOLVED
  ex.writerClosed = true
  if (ex.declared !== undefined && ex.sent !== ex.declared) {
    return failWriter(ex, lengthMismatch(ex.declared, ex.sent))
  }
  if (!ex.res.writableEnded) ex.res.end()
  return RESOLVED
}

/** The writer's body broke its Content-Length: the response fails (the connection is cut). */
function failWriter(ex: Exchange, message: string): Promise<void> {
  const err = new Error(`tsgi: ${message}`)
  ex.fail(err)
  return rejected(err)
}

/** The writer of a response that was refused: writes reject, close does nothing. */
export function deadWriter(err: Error): Writer {
  return { write: () => rejected(err), close: () => RESOLVED }
}
