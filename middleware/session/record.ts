/**
 * What Session writes to a store: `{"t":<ms when written>,"d":<session data>}` as JSON text.
 * The write time tells when an unchanged session is due for a TTL refresh.
 */
import { isPlainObject } from './context.js'
import type { SessionData } from './types.js'

/** A stored session. */
export interface SessionRecord {
  readonly writtenAt: number
  readonly data: SessionData
}

/** The record text for data already serialised as `json`. */
export function encodeRecord(json: string, writtenAt: number): string {
  return `{"t":${writtenAt},"d":${json}}`
}

/** The record in `text`, or undefined when it is not one (then the session starts afresh). */
export function decodeRecord(text: string): SessionRecord | undefined {
  try {
    const value = JSON.parse(text) as { t?: unknown; d?: unknown }
    if (typeof value.t !== 'number' || !isPlainObject(value.d)) return undefined
    return { writtenAt: value.t, data: value.d }
  } catch {
    return undefined
  }
}
