/**
 * The FastCGI record layer, by property: records split anyhow come out whole and in order,
 * padding keeps records on 8-byte boundaries, name-value pairs round-trip (4-byte lengths
 * included), and malformed input gives a message, never a throw.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodePairs,
  encodePairs,
  endRequest,
  MAX_CONTENT,
  padding,
  RecordParser,
  record,
  recordHeader,
  STDOUT,
  unknownType,
} from '../../src/server/fastcgi-records.js'

interface Rec {
  readonly type: number
  readonly requestId: number
  readonly content: Buffer
}

/** Contents mostly small, sometimes up to the largest a record holds. */
const content = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: MAX_CONTENT - 8, maxLength: MAX_CONTENT }) },
)

const rec: fc.Arbitrary<Rec> = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  requestId: fc.integer({ min: 0, max: 65535 }),
  content: content.map((c) => Buffer.from(c)),
})

/** `data` cut at `cuts` (fractions of its length), in order. */
function split(data: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((f) => Math.floor(f * data.length)))].sort((a, b) => a - b)
  const parts: Buffer[] = []
  let from = 0
  for (const to of at) {
    if (to > from) parts.push(data.subarray(from, to))
    from = Math.max(from, to)
  }
  parts.push(data.subarray(from))
  return parts
}

/** Every record `chunks` give, copied out of the parser's views. */
function parse(chunks: readonly Buffer[]): { records: Rec[]; problems: string[] } {
  const records: Rec[] = []
  const problems: string[] = []
  const parser = new RecordParser((type, requestId, c) =>
    records.push({ type, requestId, content: Buffer.from(c) }),
  )
  for (const chunk of chunks) {
    const problem = parser.push(chunk)
    if (problem !== undefined) problems.push(problem)
  }
  return { records, problems }
}

const plain = (rs: readonly Rec[]) =>
  rs.map((r) => ({ type: r.type, requestId: r.requestId, content: r.content.toString('hex') }))

describe('RecordParser', () => {
  it('gives back every record, in order, however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(rec, { maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        (records, cuts) => {
          const wire = Buffer.concat(records.map((r) => record(r.type, r.requestId, r.content)))
          const out = parse(split(wire, cuts))
          expect(out.problems).toEqual([])
          expect(plain(out.records)).toEqual(plain(records))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('gives back every record from 1-byte reads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.integer({ min: 0, max: 255 }),
            requestId: fc.integer({ min: 0, max: 65535 }),
            content: fc.uint8Array({ maxLength: 40 }).map((c) => Buffer.from(c)),
          }),
          { maxLength: 8 },
        ),
        (records) => {
          const wire = Buffer.concat(records.map((r) => record(r.type, r.requestId, r.content)))
          const bytes = [...wire].map((b) => Buffer.from([b]))
          const out = parse(bytes)
          expect(out.problems).toEqual([])
          expect(plain(out.records)).toEqual(plain(records))
        },
      ),
    )
  })

  it('takes the padding a peer chose (0 to 255 bytes), not only the 8-byte minimum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 0, max: 255 }), (c, pad) => {
        const header = recordHeader(STDOUT, 7, c.length)
        header[6] = pad
        const wire = Buffer.concat([header, c, Buffer.alloc(pad), record(STDOUT, 8, Buffer.from('next'))])
        const out = parse(split(wire, [0.3, 0.6]))
        expect(plain(out.records)).toEqual(
          plain([
            { type: STDOUT, requestId: 7, content: Buffer.from(c) },
            { type: STDOUT, requestId: 8, content: Buffer.from('next') },
          ]),
        )
      }),
    )
  })

  it('holds an incomplete record until the rest comes, and says how much it holds', () => {
    const wire = record(STDOUT, 1, Buffer.from('hello'))
    const seen: string[] = []
    const parser = new RecordParser((_t, _id, c) => seen.push(c.toString()))
    expect(parser.push(wire.subarray(0, 11))).toBeUndefined()
    expect(parser.buffered).toBe(11)
    expect(seen).toEqual([])
    expect(parser.push(wire.subarray(11))).toBeUndefined()
    expect(parser.buffered).toBe(0)
    expect(seen).toEqual(['hello'])
  })

  it('a header of another version gives a message, and the parser takes nothing more', () => {
    fc.assert(
      fc.property(
        fc.array(
          rec.filter((r) => r.content.length < 1000),
          { maxLength: 4 },
        ),
        fc.integer({ min: 0, max: 255 }).filter((v) => v !== 1),
        (before, version) => {
          const bad = record(STDOUT, 1, Buffer.from('bad'))
          bad[0] = version
          const wire = Buffer.concat([
            ...before.map((r) => record(r.type, r.requestId, r.content)),
            bad,
            record(STDOUT, 2, Buffer.from('after')),
          ])
          const records: Rec[] = []
          const parser = new RecordParser((type, requestId, c) =>
            records.push({ type, requestId, content: Buffer.from(c) }),
          )
          const problem = parser.push(wire)
          expect(problem).toBe(`a record of FastCGI version ${version} (only 1 is spoken)`)
          expect(plain(records)).toEqual(plain(before))
          // stopped: a good record afterwards is not taken, the same message comes back
          expect(parser.push(record(STDOUT, 3, Buffer.from('later')))).toBe(problem)
          expect(records).toHaveLength(before.length)
        },
      ),
    )
  })
})

describe('records the server makes', () => {
  it('are padded to a multiple of 8 bytes, the header saying how much', () => {
    fc.assert(
      fc.property(rec, (r) => {
        const wire = record(r.type, r.requestId, r.content)
        expect(wire.length % 8).toBe(0)
        expect(wire[0]).toBe(1)
        expect(wire.readUInt16BE(4)).toBe(r.content.length)
        expect(wire[6]).toBe(padding(r.content.length).length)
        expect(wire[6]).toBeLessThan(8)
        expect(8 + r.content.length + wire[6]!).toBe(wire.length)
        expect(recordHeader(r.type, r.requestId, r.content.length)).toEqual(wire.subarray(0, 8))
      }),
    )
  })

  it('FCGI_END_REQUEST carries the app status and the protocol status', () => {
    const wire = endRequest(5, 0xfffffffe, 2)
    expect(wire.length).toBe(16)
    expect(wire.readUInt16BE(2)).toBe(5)
    expect(wire.readUInt32BE(8)).toBe(0xfffffffe)
    expect(wire[12]).toBe(2)
  })

  it('FCGI_UNKNOWN_TYPE names the type, on request id 0', () => {
    const wire = unknownType(42)
    expect(wire.readUInt16BE(2)).toBe(0)
    expect(wire[1]).toBe(11)
    expect(wire[8]).toBe(42)
  })
})

/** Latin1 strings: one octet per character, sometimes long enough for a 4-byte length. */
const latin1 = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      minLength: 120,
      maxLength: 600,
    }),
  },
)

describe('name-value pairs', () => {
  it('round-trip, names and values of any latin1 text and length', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(latin1, latin1), { selector: ([n]) => n, maxLength: 10 }),
        (pairs) => {
          const decoded = decodePairs(encodePairs(pairs))
          expect(typeof decoded).toBe('object')
          // sorted: an object lists integer-like names first, whatever the order they came in
          const sorted = (xs: [string, string][]) => xs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          expect(sorted(Object.entries(decoded))).toEqual(sorted([...pairs]))
        },
      ),
      { numRuns: 300 },
    )
  })

  it.each([
    ['0 bytes', 0, 1],
    ['127 bytes', 127, 1],
    ['128 bytes', 128, 4],
    ['70,000 bytes', 70_000, 4],
  ])('a length of %s takes %i byte(s)', (_label, n, bytes) => {
    const wire = encodePairs([['N', 'v'.repeat(n)]])
    expect(wire.length).toBe(1 + bytes + 1 + n)
    if (bytes === 4) expect(wire[1]! & 0x80).toBe(0x80)
    expect(decodePairs(wire)).toEqual({ N: 'v'.repeat(n) })
  })

  it('a stream cut anywhere inside a pair gives a message, never a throw', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(latin1, latin1), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (pairs, f) => {
          const wire = encodePairs(pairs)
          // a cut that leaves the last pair short (never at a pair boundary)
          const last = encodePairs(pairs.slice(-1)).length
          const start = wire.length - last
          const cut = start + 1 + Math.floor(f * (last - 1))
          const out = decodePairs(wire.subarray(0, cut))
          expect(out).toBe('a name-value pair runs past the end of its stream')
        },
      ),
    )
  })

  it('arbitrary bytes give pairs or a message, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const out = decodePairs(Buffer.from(bytes))
        expect(['object', 'string']).toContain(typeof out)
      }),
      { numRuns: 500 },
    )
  })

  it('a 4-byte length whose value runs past the end gives a message', () => {
    const wire = Buffer.from([0x80, 0, 0x10, 0, 1, 0x41, 0x42])
    expect(decodePairs(wire)).toBe('a name-value pair runs past the end of its stream')
  })
})
