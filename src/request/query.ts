/**
 * Parses `application/x-www-form-urlencoded` text (query strings and urlencoded bodies) into a
 * {@link MultiMap}, as Plack::Request does: pairs split on `&` or `;`, `+` is a space, `%XX`
 * escapes are decoded as UTF-8. It is lenient like browsers and never throws: a malformed escape
 * (`%zz`, a lone `%`) stays as written and invalid UTF-8 becomes U+FFFD. Empty segments
 * (`a=1&&b=2`) are skipped; a segment without `=` is a key with the value `''`.
 *
 * Written by hand because `URLSearchParams` does not split on `;` and node's `querystring`
 * decodes malformed UTF-8 differently from browsers.
 */
import { MultiMap } from './multi-map.js'

const utf8 = new TextDecoder('utf-8')
const encoder = new TextEncoder()

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  const lower = code | 0x20
  if (lower >= 97 && lower <= 102) return lower - 87
  return -1
}

// Slow path: percent-decodes byte by byte, keeps malformed escapes, decodes UTF-8 leniently.
function decodeLenient(text: string): string {
  const bytes: number[] = []
  let literalStart = 0
  const flushLiteral = (end: number): void => {
    if (end > literalStart) for (const b of encoder.encode(text.slice(literalStart, end))) bytes.push(b)
  }
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 37 /* % */) continue
    // charCodeAt past the end is NaN, which hexValue rejects.
    const hi = hexValue(text.charCodeAt(i + 1))
    const lo = hexValue(text.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) continue
    flushLiteral(i)
    bytes.push(hi * 16 + lo)
    i += 2
    literalStart = i + 1
  }
  flushLiteral(text.length)
  return utf8.decode(new Uint8Array(bytes))
}

/** Decodes one form component: `+` to space, then percent-escapes, leniently. */
export function decodeFormComponent(text: string): string {
  if (text.includes('+')) text = text.replaceAll('+', ' ')
  if (!text.includes('%')) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return decodeLenient(text)
  }
}

/** Parses form-encoded text into a MultiMap of strings. Never throws. */
export function parseFormEncoded(text: string): MultiMap<string> {
  const out = new MultiMap<string>()
  if (text === '') return out
  for (const segment of text.split(/[&;]/)) {
    if (segment === '') continue
    const eq = segment.indexOf('=')
    if (eq === -1) out.add(decodeFormComponent(segment), '')
    else out.add(decodeFormComponent(segment.slice(0, eq)), decodeFormComponent(segment.slice(eq + 1)))
  }
  return out
}
