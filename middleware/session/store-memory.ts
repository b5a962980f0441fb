/**
 * The memory store (Plack::Session::Store): sessions in a `Map` of this process, each with a
 * time to live, at most `maxEntries` of them; past that the least recently used goes first.
 * For development and single-process servers: sessions vanish on restart and are not shared.
 *
 * @example
 * session({ store: memoryStore({ maxEntries: 50_000 }) })
 */
import { checkOptions, optionFunction, optionNumber } from '../../src/options.js'
import type { SessionStore } from './types.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most sessions kept; the least recently used is evicted past it. @default 10000 */
  readonly maxEntries?: number
  /** The clock, in milliseconds (for tests). @default Date.now */
  readonly now?: () => number
}

interface Entry {
  readonly value: string
  readonly expiresAt: number
}

/** A store in this process's memory. */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const opts = checkOptions('Session', options, ['maxEntries', 'now'])
  const maxEntries = optionNumber('Session', opts, 'maxEntries', { min: 1, integer: true }) ?? 10_000
  const now = optionFunction<() => number>('Session', opts, 'now') ?? Date.now
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry>()
  return {
    async get(id) {
      const entry = entries.get(id)
      if (entry === undefined) return undefined
      entries.delete(id)
      if (entry.expiresAt <= now()) return undefined
      entries.set(id, entry)
      return entry.value
    },
    async set(id, value, ttl) {
      entries.delete(id)
      entries.set(id, { value, expiresAt: now() + ttl * 1000 })
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value
        if (oldest === undefined) break
        entries.delete(oldest)
      }
    },
    async delete(id) {
      entries.delete(id)
    },
  }
}
