/**
 * Session ids: 192 random bits from `crypto.randomBytes`, written as 32 base64url characters,
 * and the strict pattern every id a client sends must match before it reaches a store (or a
 * file path).
 */
import { randomBytes } from 'node:crypto'

/** Random bytes in an id (192 bits). */
export const ID_BYTES = 24

/** What a session id looks like: exactly 32 base64url characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/

/** A fresh session id. */
export function generateId(): string {
  return randomBytes(ID_BYTES).toString('base64url')
}

/** True when `id` is a string of the form {@link generateId} produces. */
export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}
