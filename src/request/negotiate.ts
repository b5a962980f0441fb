/**
 * Content negotiation on env with `negotiator`: picks the best of the server's offers for the
 * Accept, Accept-Encoding, Accept-Language and Accept-Charset request headers.
 * Media types may be given as file extensions (`'json'`, `'html'`), looked up with `mime-types`;
 * the offer is returned as it was given.
 */
import { lookup } from 'mime-types'
import Negotiator from 'negotiator'
import type { Env } from '../types.js'

function headerOf(env: Env, key: string): string | undefined {
  const value = env[key]
  return typeof value === 'string' ? value : undefined
}

/** A negotiator over the env's Accept-* headers. */
export function negotiatorFor(env: Env): Negotiator {
  const headers: Record<string, string> = {}
  const pairs: [string, string][] = [
    ['accept', 'HTTP_ACCEPT'],
    ['accept-encoding', 'HTTP_ACCEPT_ENCODING'],
    ['accept-language', 'HTTP_ACCEPT_LANGUAGE'],
    ['accept-charset', 'HTTP_ACCEPT_CHARSET'],
  ]
  for (const [name, key] of pairs) {
    const value = headerOf(env, key)
    if (value !== undefined) headers[name] = value
  }
  return new Negotiator({ headers })
}

/** The best of `offers` (media types or extensions) for the Accept header, or undefined. */
export function bestMediaType(negotiator: Negotiator, offers: readonly string[]): string | undefined {
  const types: string[] = []
  const byType = new Map<string, string>()
  for (const offer of offers) {
    const type = offer.includes('/') ? offer : lookup(offer)
    if (type === false) continue
    types.push(type)
    if (!byType.has(type.toLowerCase())) byType.set(type.toLowerCase(), offer)
  }
  if (types.length === 0) return undefined
  const best = negotiator.mediaType(types)
  return best === undefined ? undefined : byType.get(best.toLowerCase())
}
