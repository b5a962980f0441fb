import { describe, expect, it } from 'vitest'
import { MultiMap } from '../../src/request/multi-map.js'

describe('MultiMap', () => {
  it('keeps every value in order and reads the last with get', () => {
    const m = new MultiMap([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ])
    expect(m.get('a')).toBe('3')
    expect(m.getFirst('a')).toBe('1')
    expect(m.getAll('a')).toEqual(['1', '3'])
    expect(m.get('zz')).toBeUndefined()
    expect(m.getAll('zz')).toEqual([])
    expect(m.has('b')).toBe(true)
    expect(m.size).toBe(2)
    expect([...m.keys()]).toEqual(['a', 'b'])
    expect([...m.entries()]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ])
  })

  it('set replaces, delete removes, add appends', () => {
    const m = new MultiMap<number>()
    m.add('x', 1).add('y', 2).add('x', 3)
    m.set('x', 9)
    expect([...m]).toEqual([
      ['y', 2],
      ['x', 9],
    ])
    expect(m.delete('y')).toBe(true)
    expect(m.delete('y')).toBe(false)
    m.set('x')
    expect(m.size).toBe(0)
  })

  it('getAll returns a copy', () => {
    const m = new MultiMap([['a', '1']])
    m.getAll('a').push('2')
    expect(m.getAll('a')).toEqual(['1'])
  })

  it('treats __proto__ and constructor as ordinary keys', () => {
    const m = new MultiMap([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['constructor', 'd'],
    ])
    const obj = m.toObject()
    expect(Object.getPrototypeOf(obj)).toBeNull()
    expect(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value).toBe('p')
    expect(obj.constructor).toBe('d')
    expect(m.toMixed().constructor).toEqual(['c', 'd'])
  })
})
