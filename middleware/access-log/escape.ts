/**
 * Escaping of logged values as Apache's `ap_escape_logitem` does it, so a line stays one line
 * and can be parsed back: `"` and `\` get a backslash, `\b \n \r \t \v` their C escapes, any
 * other control character or non-ASCII byte `\xhh`. Characters above U+00FF are escaped as
 * their UTF-8 bytes; lower ones (how node hands over raw header and URL bytes) as themselves.
 */

const SHORT: Record<number, string> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
}

const encoder = new TextEncoder()

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`
}

function plain(code: number): boolean {
  return code >= 0x20 && code < 0x7f && code !== 0x22 && code !== 0x5c
}

/** `value` with every character Apache would escape in a log line escaped. */
export function escapeLogItem(value: string): string {
  let i = 0
  while (i < value.length && plain(value.charCodeAt(i))) i++
  if (i === value.length) return value
  let out = value.slice(0, i)
  for (const ch of value.slice(i)) {
    const code = ch.codePointAt(0)!
    if (plain(code)) out += ch
    else if (SHORT[code] !== undefined) out += SHORT[code]
    else if (code <= 0xff) out += hex(code)
    else for (const byte of encoder.encode(ch)) out += hex(byte)
  }
  return out
}
