/**
 * The header state, for APIs: the client sends its session id in a request header and gets a
 * new one back in the same response header. Expiring sends the header with an empty value.
 *
 * @example
 * session({ state: headerState({ name: 'X-Session-Id' }), store })
 */
import { headerSet, isHeaderName } from '../../src/headers.js'
import { checkOptions, optionString } from '../../src/options.js'
import type { SessionState } from './types.js'

/** Options of {@link headerState}. */
export interface HeaderStateOptions {
  /** The request and response header that carries the id. @default 'X-Session-Id' */
  readonly name?: string
}

/** A state that keeps the session id in a header. */
export function headerState(options: HeaderStateOptions = {}): SessionState {
  const opts = checkOptions('Session', options, ['name'])
  const name = optionString('Session', opts, 'name') ?? 'X-Session-Id'
  if (!isHeaderName(name)) throw new TypeError(`Session: header state option 'name' must be a header name`)
  const key = `HTTP_${name.toUpperCase().replace(/-/g, '_')}`
  return {
    extract: (env) => (typeof env[key] === 'string' ? (env[key] as string).trim() : undefined),
    finalize: (value, headers) => headerSet(headers, name, value),
    expire: (headers) => headerSet(headers, name, ''),
  }
}
