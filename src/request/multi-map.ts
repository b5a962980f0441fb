/**
 * MultiMap: an ordered multi-value map, the counterpart of Perl's Hash::MultiValue, used for
 * query parameters, body parameters and uploads.
 *
 * A key may hold several values, kept in the order they were added. `get(key)` returns the
 * **last** value, as Hash::MultiValue does when it is read as a plain hash (so `?a=1&a=2` reads
 * as `a = '2'`); `getAll(key)` returns every value. Keys are stored in a `Map`, so names such as
 * `__proto__` or `constructor` are ordinary keys.
 *
 * @example
 * const m = new MultiMap([['a', '1'], ['b', '2'], ['a', '3']])
 * m.get('a')     // '3'
 * m.getAll('a')  // ['1', '3']
 * [...m.keys()]  // ['a', 'b']
 */
export class MultiMap<V = string> implements Iterable<[string, V]> {
  readonly #values = new Map<string, V[]>()
  // Every pair in insertion order, so `entries()` keeps the original interleaving.
  #pairs: [string, V][] = []

  constructor(pairs: Iterable<readonly [string, V]> = []) {
    for (const [key, value] of pairs) this.add(key, value)
  }

  /** The last value of `key`, or undefined. */
  get(key: string): V | undefined {
    const list = this.#values.get(key)
    return list === undefined ? undefined : list[list.length - 1]
  }

  /** The first value of `key`, or undefined. */
  getFirst(key: string): V | undefined {
    return this.#values.get(key)?.[0]
  }

  /** Every value of `key`, in order (a copy; empty when absent). */
  getAll(key: string): V[] {
    return [...(this.#values.get(key) ?? [])]
  }

  /** True when `key` has at least one value. */
  has(key: string): boolean {
    return this.#values.has(key)
  }

  /** Appends a value to `key`. */
  add(key: string, value: V): this {
    const list = this.#values.get(key)
    if (list === undefined) this.#values.set(key, [value])
    else list.push(value)
    this.#pairs.push([key, value])
    return this
  }

  /** Replaces every value of `key` with the given ones (none removes the key). */
  set(key: string, ...values: V[]): this {
    this.delete(key)
    for (const value of values) this.add(key, value)
    return this
  }

  /** Removes `key` and all its values. Returns true when something was removed. */
  delete(key: string): boolean {
    if (!this.#values.delete(key)) return false
    this.#pairs = this.#pairs.filter(([k]) => k !== key)
    return true
  }

  /** The number of distinct keys. */
  get size(): number {
    return this.#values.size
  }

  /** The distinct keys, in first-seen order. */
  keys(): IterableIterator<string> {
    return this.#values.keys()
  }

  /** Every `[key, value]` pair in insertion order (repeated keys appear repeatedly). */
  entries(): IterableIterator<[string, V]> {
    return this.#pairs.map(([k, v]): [string, V] => [k, v])[Symbol.iterator]()
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries()
  }

  /** A plain object (null prototype) mapping each key to its last value. */
  toObject(): Record<string, V> {
    const out: Record<string, V> = Object.create(null)
    for (const [key, list] of this.#values) out[key] = list[list.length - 1]!
    return out
  }

  /** A plain object (null prototype) mapping each key to its value, or to an array when it has several. */
  toMixed(): Record<string, V | V[]> {
    const out: Record<string, V | V[]> = Object.create(null)
    for (const [key, list] of this.#values) out[key] = list.length === 1 ? list[0]! : [...list]
    return out
  }
}
