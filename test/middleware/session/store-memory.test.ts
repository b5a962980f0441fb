import { describe, expect, it } from 'vitest'
import { generateId } from '../../../middleware/session/id.js'
import { memoryStore } from '../../../middleware/session/store-memory.js'
import { manualClock, storeSuite } from './store-suite.js'

storeSuite('memoryStore', async () => {
  const clock = manualClock()
  return { store: memoryStore({ now: clock.now }), advance: clock.advance }
})

describe('memoryStore: least-recently-used eviction', () => {
  it('drops the least recently used entry past maxEntries', async () => {
    const store = memoryStore({ maxEntries: 3 })
    const [a, b, c, d] = [generateId(), generateId(), generateId(), generateId()]
    await store.set(a, 'a', 60)
    await store.set(b, 'b', 60)
    await store.set(c, 'c', 60)
    expect(await store.get(a)).toBe('a') // a is now the most recently used; b the least
    await store.set(d, 'd', 60)
    expect(await store.get(b)).toBeUndefined()
    expect([await store.get(a), await store.get(c), await store.get(d)]).toEqual(['a', 'c', 'd'])
  })

  it.each([
    [{ maxEntries: 0 }, /Session: option 'maxEntries' must be an integer >= 1/],
    [{ maxEntries: 1.5 }, /maxEntries/],
    [{ now: 1 }, /Session: option 'now' must be a function/],
    [{ size: 3 }, /Session: unknown option 'size'/],
  ])('rejects %o', (options, message) => {
    expect(() => memoryStore(options as never)).toThrow(message)
  })
})
