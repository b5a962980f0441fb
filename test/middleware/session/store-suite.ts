/**
 * The tests every session store passes: get/set/delete, overwrite, isolation of ids, values
 * kept byte for byte, concurrent writes of one id, and expiry after the TTL (on a clock the test
 * moves where the store takes one, else on the real clock with the shortest TTL).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateId } from '../../../middleware/session/id.js'
import type { SessionStore } from '../../../middleware/session/types.js'

/** A store under test, and its clock when the test can move it. */
export interface StoreFixture {
  readonly store: SessionStore
  /** Moves the store's clock forward by `ms`; absent for stores on a real clock (Redis). */
  readonly advance?: (ms: number) => void
}

/** Registers the shared store tests; `make` is called once per test. */
export function storeSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`${name}: the shared store suite`, () => {
    it('answers undefined for an id it never saw', async () => {
      const { store } = await make()
      expect(await store.get(generateId())).toBeUndefined()
    })

    it('gives back what was set, and replaces it on the next set', async () => {
      const { store } = await make()
      const id = generateId()
      await store.set(id, '{"a":1}', 60)
      expect(await store.get(id)).toBe('{"a":1}')
      await store.set(id, '{"a":2}', 60)
      expect(await store.get(id)).toBe('{"a":2}')
    })

    it('deletes, and deleting what is not there is no error', async () => {
      const { store } = await make()
      const id = generateId()
      await store.set(id, 'x', 60)
      await store.delete(id)
      expect(await store.get(id)).toBeUndefined()
      await expect(store.delete(generateId())).resolves.toBeUndefined()
    })

    it('keeps ids apart', async () => {
      const { store } = await make()
      const ids = Array.from({ length: 5 }, generateId)
      await Promise.all(ids.map((id, i) => store.set(id, `v${i}`, 60)))
      await store.delete(ids[2]!)
      expect(await Promise.all(ids.map((id) => store.get(id)))).toEqual(['v0', 'v1', undefined, 'v3', 'v4'])
    })

    it('keeps any string value as it was (property)', async () => {
      const { store } = await make()
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), async (value) => {
          const id = generateId()
          await store.set(id, value, 60)
          expect(await store.get(id)).toBe(value)
        }),
        { numRuns: 30 },
      )
    })

    it('ends concurrent writes of one id with one whole value', async () => {
      const { store } = await make()
      const id = generateId()
      const values = Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(5000) }))
      await Promise.all(values.map((v) => store.set(id, v, 60)))
      expect(values).toContain(await store.get(id))
    })

    it('forgets a value once its TTL is over', async () => {
      const { store, advance } = await make()
      const id = generateId()
      if (advance) {
        await store.set(id, 'short', 10)
        advance(9_000)
        expect(await store.get(id)).toBe('short')
        advance(1_001)
        expect(await store.get(id)).toBeUndefined()
        return
      }
      // A store on a real clock: the shortest TTL, then wait for the value to go (bounded).
      await store.set(id, 'short', 1)
      expect(await store.get(id)).toBe('short')
      const deadline = Date.now() + 5_000
      while ((await store.get(id)) !== undefined) {
        if (Date.now() > deadline) throw new Error('the value outlived its 1 s TTL by over 4 s')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })
  })
}

/** A clock a test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}
