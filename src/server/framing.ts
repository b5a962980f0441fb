/**
 * Response framing rules shared by the servers, free of any runtime API: the body length an
 * application's `Content-Length` declares (spec 5.3), and which headers a server drops because
 * it owns the framing (spec 5.2).
 */
import type { HeaderList } from '../types.js'

/** True for a `Content-Length` field name. */
export function isContentLength(name: string): boolean {
  return name.length === 14 && name.toLowerCase() === 'content-length'
}

/** True for a `Transfer-Encoding` field name. */
export function isTransferEncoding(name: string): boolean {
  return name.length === 17 && name.toLowerCase() === 'transfer-encoding'
}

const DIGITS = /^\d{1,15}$/

/**
 * The body length the app's headers declare: undefined when they declare none or ask for
 * chunking (which then wins, spec 5.2), a message when a `Content-Length` is not a number of
 * bytes or several disagree (no body could match it).
 */
export function declaredLength(headers: HeaderList): number | string | undefined {
  let declared: number | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (isTransferEncoding(name)) return undefined
    if (!isContentLength(name)) continue
    const value = headers[i + 1]!.trim()
    if (!DIGITS.test(value) || (declared !== undefined && Number(value) !== declared)) {
      return `invalid Content-Length ${JSON.stringify(headers[i + 1])}: must be one number of bytes`
    }
    declared = Number(value)
  }
  return declared
}

/** The message of a body whose length is not its declared `Content-Length`. */
export function lengthMismatch(declared: number, actual: number, more = false): string {
  return `body ${more ? 'longer than' : `of ${actual} bytes does not match`} its Content-Length ${declared}`
}
