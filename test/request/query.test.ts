import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeFormComponent, parseFormEncoded } from '../../src/request/query.js'

describe('parseFormEncoded', () => {
  it.each([
    ['', []],
    ['a=1', [['a', '1']]],
    [
      'a=1&a=2&b=3',
      [
        ['a', '1'],
        ['a', '2'],
        ['b', '3'],
      ],
    ],
    [
      'a=1;b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['a+b=c+d', [['a b', 'c d']]],
    ['x=%20%2B%26', [['x', ' +&']]],
    ['flag', [['flag', '']]],
    [
      'a=&b',
      [
        ['a', ''],
        ['b', ''],
      ],
    ],
    [
      'a=1&&b=2&',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['k=a=b', [['k', 'a=b']]],
    ['%E3%81%82=%E2%9C%93', [['あ', '✓']]],
    ['bad=%zz', [['bad', '%zz']]],
    ['bad=%', [['bad', '%']]],
    ['bad=100%', [['bad', '100%']]],
    ['mix=%41%zz%42', [['mix', 'A%zzB']]],
    ['bin=%FF', [['bin', '\uFFFD']]],
    ['raw=é', [['raw', 'é']]],
    [
      '__proto__=x&constructor=y',
      [
        ['__proto__', 'x'],
        ['constructor', 'y'],
      ],
    ],
  ])('%j', (input, pairs) => {
    expect([...parseFormEncoded(input)]).toEqual(pairs)
  })

  it('get returns the last value, getAll every value', () => {
    const m = parseFormEncoded('a=1&b=2&a=3')
    expect(m.get('a')).toBe('3')
    expect(m.getFirst('a')).toBe('1')
    expect(m.getAll('a')).toEqual(['1', '3'])
    expect([...m.keys()]).toEqual(['a', 'b'])
  })

  it.each([
    ['a+%2B', 'a +'],
    ['%41%42', 'AB'],
    ['%4', '%4'],
    ['%C3%A9%C3', 'é\uFFFD'],
    ['plain', 'plain'],
  ])('decodeFormComponent(%j) is %j', (input, output) => {
    expect(decodeFormComponent(input)).toBe(output)
  })

  it('never throws on any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const m = parseFormEncoded(text)
        for (const [k, v] of m) {
          expect(typeof k).toBe('string')
          expect(typeof v).toBe('string')
        }
      }),
      { numRuns: 500 },
    )
  })

  it('round-trips encoded pairs', () => {
    const pair = fc.tuple(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ unit: 'grapheme' }))
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), fc.constantFrom('&', ';'), (pairs, sep) => {
        const text = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(sep)
        expect([...parseFormEncoded(text)]).toEqual(pairs)
      }),
      { numRuns: 300 },
    )
  })

  it('round-trips URLSearchParams encoding (spaces as +)', () => {
    const pair = fc.tuple(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ unit: 'grapheme' }))
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), (pairs) => {
        const text = new URLSearchParams(pairs).toString()
        expect([...parseFormEncoded(text)]).toEqual(pairs)
      }),
      { numRuns: 300 },
    )
  })
})
