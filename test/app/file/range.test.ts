import { statSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ifRangeMatches, MAX_RANGES, parseRange } from '../../../src/app/file/range.js'
import { file } from '../../../src/app/file.js'
import { readBody } from '../../../src/body.js'
import { headerGet } from '../../../src/headers.js'
import { testApp } from '../../../src/testing/index.js'
import type { App, Triple } from '../../../src/types.js'
import { BIN, envFor, type Fixture, makeFixture } from '../file-fixtures.js'

let fx: Fixture
let app: App
let etag: string
beforeAll(() => {
  fx = makeFixture()
  app = file({ root: fx.root, etag: true })
  const st = statSync(join(fx.root, 'data.bin'))
  etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`
})
afterAll(() => fx.cleanup())

async function get(headers: Record<string, string>, path = '/data.bin', method = 'GET'): Promise<Triple> {
  const res = await app(envFor(path, { REQUEST_METHOD: method, ...headers }))
  if (typeof res === 'function') throw new Error('unexpected delayed response')
  return res
}

describe('parseRange', () => {
  it.each([
    ['bytes=0-4', [[0, 4]]],
    ['bytes=-500', [[500, 999]]],
    ['bytes=-5000', [[0, 999]]],
    ['bytes=500-', [[500, 999]]],
    ['bytes=990-2000', [[990, 999]]],
    [
      'bytes=0-1,10-12',
      [
        [0, 1],
        [10, 12],
      ],
    ],
    [
      'bytes=10-12, 0-1',
      [
        [10, 12],
        [0, 1],
      ],
    ],
    ['bytes=0-10,5-20', [[0, 20]]],
    ['bytes=0-1,2-3', [[0, 3]]],
    ['BYTES = 1-2', [[1, 2]]],
    ['bytes=0-0,2000-3000', [[0, 0]]],
  ])('%s', (header, expected) => {
    const r = parseRange(header, 1000)
    expect(r).toEqual({ kind: 'ranges', ranges: expected.map(([start, end]) => ({ start, end })) })
  })

  it.each(['bytes=1000-', 'bytes=2000-3000', 'bytes=-0', 'bytes=1000-1001,5000-'])(
    '%s is unsatisfiable',
    (h) => {
      expect(parseRange(h, 1000)).toEqual({ kind: 'unsatisfiable' })
    },
  )

  it.each([
    'bytes=abc',
    'bytes=5-1',
    'bytes=-',
    'items=0-1',
    'bytes',
    'bytes=',
    'bytes=1-2-3',
    'bytes=0x1-2',
    'bytes=1-2;x',
  ])('%s is ignored', (h) => {
    expect(parseRange(h, 1000)).toEqual({ kind: 'none' })
  })

  it('ignores more than MAX_RANGES ranges', () => {
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',')
    expect(parseRange(`bytes=${many}`, 1000)).toEqual({ kind: 'none' })
  })

  it('any range of an empty file is unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' })
  })

  it('returns in-bounds, non-overlapping ranges for any input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.nat(5000), (tail, size) => {
        const r = parseRange(`bytes=${tail}`, size)
        if (r.kind !== 'ranges') return
        const sorted = [...r.ranges].sort((a, b) => a.start - b.start)
        sorted.forEach((x, i) => {
          expect(x.start).toBeGreaterThanOrEqual(0)
          expect(x.end).toBeLessThan(size)
          expect(x.start).toBeLessThanOrEqual(x.end)
          if (i > 0) expect(x.start).toBeGreaterThan(sorted[i - 1]!.end + 1)
        })
      }),
      { numRuns: 3000 },
    )
  })
})

describe('parseRange against hostile headers', () => {
  // Numbers a client might send: small, near the size, past 2^53, hundreds of digits, zero-padded.
  const number = fc.oneof(
    fc.nat(3000).map(String),
    fc.bigInt({ min: 2n ** 53n - 2n, max: 2n ** 64n }).map(String),
    fc.constantFrom('9'.repeat(400), `${'0'.repeat(50)}7`, '18446744073709551616'),
  )
  const spec = fc.oneof(
    fc.tuple(number, number).map(([a, b]) => `${a}-${b}`),
    number.map((a) => `${a}-`),
    number.map((b) => `-${b}`),
    fc.constantFrom('-', '-0', '0-0', ' 1 - 2 ', '-1-2', '+1-2', '1e3-'),
  )

  it('every range is inside the file, ordered, disjoint, and the total never exceeds the size (property)', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 120 }), fc.nat(3000), (specs, size) => {
        const r = parseRange(`bytes=${specs.join(',')}`, size)
        if (specs.length > MAX_RANGES) expect(r.kind).toBe('none')
        if (r.kind !== 'ranges') return
        expect(r.ranges.length).toBeLessThanOrEqual(MAX_RANGES)
        let total = 0
        const sorted = [...r.ranges].sort((a, b) => a.start - b.start)
        sorted.forEach((x, i) => {
          expect(Number.isSafeInteger(x.start) && Number.isSafeInteger(x.end)).toBe(true)
          expect(x.start).toBeGreaterThanOrEqual(0)
          expect(x.end).toBeLessThan(size)
          expect(x.start).toBeLessThanOrEqual(x.end)
          if (i > 0) expect(x.start).toBeGreaterThan(sorted[i - 1]!.end + 1)
          total += x.end - x.start + 1
        })
        expect(total).toBeLessThanOrEqual(size)
      }),
      { numRuns: 3000 },
    )
  })

  it.each([
    ['bytes=0-9007199254740993', [[0, 999]]],
    [`bytes=0-${'9'.repeat(400)}`, [[0, 999]]],
    [`bytes=-${'9'.repeat(400)}`, [[0, 999]]],
    [`bytes=${Array(MAX_RANGES).fill('0-').join(',')}`, [[0, 999]]],
    [`bytes=${Array(MAX_RANGES).fill('-1').join(',')}`, [[999, 999]]],
  ])('%s', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual({
      kind: 'ranges',
      ranges: expected.map(([start, end]) => ({ start, end })),
    })
  })

  it.each([
    'bytes=9007199254740993-',
    `bytes=${'9'.repeat(400)}-`,
    'bytes=18446744073709551616-18446744073709551617',
  ])('%s (start past 2^53) is unsatisfiable', (header) => {
    expect(parseRange(header, 1000)).toEqual({ kind: 'unsatisfiable' })
  })
})

describe('ifRangeMatches', () => {
  const mtime = Date.parse('2020-01-02T03:04:05.678Z')
  it.each([
    ['"abc"', true],
    ['"abd"', false],
    ['W/"abc"', false],
    ['Thu, 02 Jan 2020 03:04:05 GMT', true],
    ['Thu, 02 Jan 2020 03:04:06 GMT', false],
    ['yesterday', false],
  ])('%s → %s', (value, ok) => {
    expect(ifRangeMatches(value, '"abc"', mtime)).toBe(ok)
  })
})

describe('File: range responses', () => {
  it.each([
    ['bytes=0-4', 0, 4],
    ['bytes=-500', 500, 999],
    ['bytes=500-', 500, 999],
    ['bytes=998-5000', 998, 999],
  ])('%s → 206 bytes %i-%i', async (range, start, end) => {
    const [status, headers, body] = await get({ HTTP_RANGE: range })
    expect(status).toBe(206)
    expect(headerGet(headers, 'content-range')).toBe(`bytes ${start}-${end}/1000`)
    expect(headerGet(headers, 'content-length')).toBe(String(end - start + 1))
    expect((await readBody(body)).equals(BIN.subarray(start, end + 1))).toBe(true)
  })

  it('416 with Content-Range: bytes */size when unsatisfiable', async () => {
    const [status, headers] = await get({ HTTP_RANGE: 'bytes=1000-' })
    expect(status).toBe(416)
    expect(headerGet(headers, 'content-range')).toBe('bytes */1000')
  })

  it.each(['bytes=x-y', 'pages=1-2', 'bytes=9-1'])(
    'an invalid Range %s gives the whole file',
    async (range) => {
      const [status, headers, body] = await get({ HTTP_RANGE: range })
      expect(status).toBe(200)
      expect(headerGet(headers, 'content-range')).toBeUndefined()
      expect((await readBody(body)).length).toBe(1000)
    },
  )

  it('ignores Range on HEAD', async () => {
    const [status, headers] = await get({ HTTP_RANGE: 'bytes=0-4' }, '/data.bin', 'HEAD')
    expect(status).toBe(200)
    expect(headerGet(headers, 'content-length')).toBe('1000')
  })

  it.each([
    ['a matching ETag', () => etag, 206],
    ['another ETag', () => '"0-0"', 200],
    ['a weak ETag', () => `W/${etag}`, 200],
    ['the Last-Modified date', () => statSync(join(fx.root, 'data.bin')).mtime.toUTCString(), 206],
    ['an older date', () => 'Sat, 01 Jan 2000 00:00:00 GMT', 200],
  ])('If-Range with %s → %i', async (_, value, status) => {
    const [got, headers] = await get({ HTTP_RANGE: 'bytes=0-4', HTTP_IF_RANGE: value() })
    expect(got).toBe(status)
    expect(headerGet(headers, 'etag')).toBe(etag)
  })

  it('serves a range through the real server', async () => {
    await testApp(
      app,
      async (fetch) => {
        const res = await fetch('/data.bin', { headers: { range: 'bytes=-3' } })
        expect(res.status).toBe(206)
        expect(res.headers.get('content-range')).toBe('bytes 997-999/1000')
        expect(Buffer.from(await res.arrayBuffer()).equals(BIN.subarray(997))).toBe(true)
      },
      { impl: 'Server' },
    )
  })
})
