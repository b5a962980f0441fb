import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  fromWebHeaders,
  headerExists,
  headerGet,
  headerGetAll,
  headerIter,
  headerPush,
  headerRemove,
  headerSet,
  isHeaderName,
  isHeaderValue,
  toWebHeaders,
  validateHead,
} from '../src/headers.js'

describe('header helpers', () => {
  it.each([
    ['Content-Type', 'text/plain'],
    ['content-type', 'text/plain'],
    ['CONTENT-TYPE', 'text/plain'],
    ['X-Missing', undefined],
  ])('headerGet(%s)', (name, want) => {
    expect(headerGet(['Content-Type', 'text/plain', 'X-A', '1'], name)).toBe(want)
  })

  it('headerGetAll keeps order of repeated fields', () => {
    expect(headerGetAll(['Set-Cookie', 'a=1', 'X', 'y', 'set-cookie', 'b=2'], 'SET-COOKIE')).toEqual([
      'a=1',
      'b=2',
    ])
  })

  it('headerExists', () => {
    expect(headerExists(['Foo', ''], 'foo')).toBe(true)
    expect(headerExists(['Foo', ''], 'foobar')).toBe(false)
  })

  it.each([
    { before: ['A', '1'], after: ['A', '1', 'B', '2'], desc: 'appends when absent' },
    {
      before: ['b', '1', 'A', 'x'],
      after: ['b', '2', 'A', 'x'],
      desc: 'replaces in place, keeps position and spelling',
    },
    {
      before: ['B', '1', 'A', 'x', 'b', '3', 'C', 'y'],
      after: ['B', '2', 'A', 'x', 'C', 'y'],
      desc: 'removes later duplicates',
    },
  ])('headerSet $desc', ({ before, after }) => {
    const h = [...before]
    headerSet(h, 'B', '2')
    expect(h).toEqual(after)
  })

  it('headerPush appends duplicates', () => {
    const h = ['Set-Cookie', 'a=1']
    headerPush(h, 'Set-Cookie', 'b=2')
    expect(h).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])
  })

  it.each([
    { before: ['A', '1', 'B', '2', 'a', '3'], after: ['B', '2'], removed: true },
    { before: ['B', '2'], after: ['B', '2'], removed: false },
    { before: [], after: [], removed: false },
  ])('headerRemove $before', ({ before, after, removed }) => {
    const h = [...before]
    expect(headerRemove(h, 'A')).toBe(removed)
    expect(h).toEqual(after)
  })

  it('headerRemove matches the spec of a filter, for any list (property)', () => {
    const name = fc.constantFrom('A', 'a', 'B', 'Content-Length', 'content-length')
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, fc.string())),
        fc.constantFrom('a', 'CONTENT-LENGTH'),
        (pairs, key) => {
          const h = pairs.flat()
          headerRemove(h, key)
          const want = pairs.filter(([n]) => n.toLowerCase() !== key.toLowerCase()).flat()
          expect(h).toEqual(want)
        },
      ),
    )
  })

  it('headerIter visits every pair in order', () => {
    const seen: string[] = []
    headerIter(['A', '1', 'B', '2'], (n, v) => seen.push(`${n}=${v}`))
    expect(seen).toEqual(['A=1', 'B=2'])
  })

  it('converts to and from web Headers, keeping Set-Cookie values apart', () => {
    const web = toWebHeaders(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])
    expect(web.get('content-type')).toBe('text/plain')
    expect(web.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(fromWebHeaders(web)).toEqual([
      'content-type',
      'text/plain',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
    ])
  })
})

describe('validation', () => {
  it.each([
    ['Content-Type', true],
    ['X-Custom_Header.1', true],
    ["!#$%&'*+-.^_`|~", true],
    ['', false],
    ['Bad Name', false],
    ['Bad:Name', false],
    ['Bad\r\nName', false],
    ['Ümlaut', false],
  ])('isHeaderName(%j) is %s', (name, ok) => {
    expect(isHeaderName(name)).toBe(ok)
  })

  it.each([
    ['text/plain', true],
    ['', true],
    ['tab\there', true],
    ['a\rb', false],
    ['a\nb', false],
    ['a\0b', false],
  ])('isHeaderValue(%j) is %s', (value, ok) => {
    expect(isHeaderValue(value)).toBe(ok)
  })

  it.each([
    [200, ['A', 'b'], undefined],
    [100, [], undefined],
    [999, [], undefined],
    [99, [], /invalid status 99/],
    [1000, [], /invalid status 1000/],
    [200.5, [], /invalid status 200.5/],
    ['200', [], /invalid status "200"/],
    [200, 'nope', /expected a flat array/],
    [200, ['A'], /odd length 1/],
    [200, [1, 'x'], /header name at index 0: not a string/],
    [200, ['Bad Name', 'x'], /"Bad Name": not an RFC 9110 token/],
    [200, ['X-Ok', 2], /value for header "X-Ok": not a string/],
    [200, ['X-Evil', 'a\r\nSet-Cookie: x=1'], /value for header "X-Evil": contains CR, LF or NUL/],
  ])('validateHead(%j, %j)', (status, headers, want) => {
    const got = validateHead(status, headers)
    if (want === undefined) expect(got).toBeUndefined()
    else expect(got).toMatch(want)
  })

  it('never accepts a value with CR or LF (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('\r', '\n', '\0'), fc.string(), (a, bad, b) => {
        expect(validateHead(200, ['X', a + bad + b])).toBeDefined()
      }),
    )
  })
})
