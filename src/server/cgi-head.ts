/**
 * A response head as CGI response headers (RFC 3875 §6), which a CGI script writes on stdout
 * and a FastCGI responder in its stdout records: `Status: <code> <reason>`, then the app's
 * fields, with the fields the front end owns left out (`Transfer-Encoding` and the
 * connection's own fields: it frames the body and keeps the connection) and `Content-Length`
 * kept or added. An app field named `Status` is refused: the front end would take it for the
 * response status (§6.3.3).
 */
import { statusText } from '../status.js'
import type { HeaderList } from '../types.js'
import { isConnectionSpecific, isContentLength, wireHeaders } from './framing.js'
import { HEAD_PLAIN } from './transport.js'

/** True for a `Status` field name. */
function isStatusField(name: string): boolean {
  return name.length === 6 && name.toLowerCase() === 'status'
}

/** A head as CGI response header lines. */
export interface CgiHead {
  /** The Status line and the field lines, each ending in CRLF, without the blank line after them. */
  readonly lines: string
  /** A `Content-Length` is among the fields. */
  readonly hasLength: boolean
}

/**
 * The CGI header lines of a head (the arguments of a transport's `head`), or a message when
 * the head cannot be sent through a CGI front end; `front` names the front end in the message.
 */
export function cgiHead(
  status: number,
  reason: string | undefined,
  headers: HeaderList,
  length: number | undefined,
  flags: number,
  front: string,
): CgiHead | string {
  const plain = (flags & HEAD_PLAIN) !== 0
  const out = plain ? headers : wireHeaders(headers, length, isConnectionSpecific)
  let lines = `Status: ${status} ${reason ?? statusText(status)}\r\n`
  let hasLength = false
  for (let i = 0; i < out.length; i += 2) {
    const name = out[i]!
    if (isStatusField(name)) {
      return `invalid header ${JSON.stringify(name)}: a ${front} front end takes it for the response status`
    }
    if (plain && isConnectionSpecific(name)) continue
    if (isContentLength(name)) hasLength = true
    lines += `${name}: ${out[i + 1]}\r\n`
  }
  if (plain && length !== undefined) {
    lines += `Content-Length: ${length}\r\n`
    hasLength = true
  }
  return { lines, hasLength }
}
