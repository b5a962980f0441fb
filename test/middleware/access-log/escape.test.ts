import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { escapeLogItem } from '../../../middleware/access-log/escape.js'

/** Reads an escaped item back (for code units up to U+00FF). */
function readBack(text: string): string {
  const named: Record<string, string> = { b: '\b', t: '\t', n: '\n', v: '\v', r: '\r', '"': '"', '\\': '\\' }
  return text.replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) =>
    e.length === 3 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : named[e]!,
  )
}

describe('escapeLogItem', () => {
  it.each<[string, string]>([
    ['plain text', 'plain text'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['a\r\nb', 'a\\r\\nb'],
    ['tab\tbell\x07', 'tab\\tbell\\x07'],
    ['del\x7f', 'del\\x7f'],
    ['\x00', '\\x00'],
    ['caf\xe9', 'caf\\xe9'],
    ['€', '\\xe2\\x82\\xac'],
    ['😀', '\\xf0\\x9f\\x98\\x80'],
  ])('%j → %j', (input, expected) => {
    expect(escapeLogItem(input)).toBe(expected)
  })

  it('always gives one line of printable ASCII with no bare quote', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeLogItem(s)
        expect(out).toMatch(/^[\x20-\x7e]*$/)
        expect(out.replace(/\\\\|\\"/g, '')).not.toContain('"')
      }),
    )
  })

  it('can be read back for latin-1 input', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) })
    fc.assert(
      fc.property(latin1, (s) => {
        expect(readBack(escapeLogItem(s))).toBe(s)
      }),
    )
  })
})
