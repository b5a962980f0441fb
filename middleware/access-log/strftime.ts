/**
 * Local-time formatting for access-log lines: Apache's `%t` form (`10/Oct/2000:13:55:36 -0700`)
 * and a compiler for the C-locale `strftime` conversions that `%{format}t` takes. Written here
 * because `Intl` has no strftime and these few conversions are all a log format needs.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/** Formats a date; compiled once from a strftime pattern. */
export type DateFormatter = (date: Date) => string

function pad(n: number, width = 2, fill = '0'): string {
  return String(n).padStart(width, fill)
}

/** The local UTC offset of `date` as `+hhmm` / `-hhmm`. */
export function tzOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset()
  const abs = Math.abs(minutes)
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1)
  const utc = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1)
  return Math.floor(utc / 86_400_000) + 1
}

function hour12(d: Date): number {
  return d.getHours() % 12 || 12
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName')
  return part?.value ?? tzOffset(d)
}

const CONVERSIONS: Record<string, DateFormatter> = {
  a: (d) => DAYS[d.getDay()]!,
  A: (d) => DAY_NAMES[d.getDay()]!,
  b: (d) => MONTHS[d.getMonth()]!,
  h: (d) => MONTHS[d.getMonth()]!,
  B: (d) => MONTH_NAMES[d.getMonth()]!,
  C: (d) => pad(Math.floor(d.getFullYear() / 100)),
  d: (d) => pad(d.getDate()),
  e: (d) => pad(d.getDate(), 2, ' '),
  H: (d) => pad(d.getHours()),
  I: (d) => pad(hour12(d)),
  j: (d) => pad(dayOfYear(d), 3),
  k: (d) => pad(d.getHours(), 2, ' '),
  l: (d) => pad(hour12(d), 2, ' '),
  m: (d) => pad(d.getMonth() + 1),
  M: (d) => pad(d.getMinutes()),
  n: () => '\n',
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  S: (d) => pad(d.getSeconds()),
  t: () => '\t',
  u: (d) => String(d.getDay() || 7),
  w: (d) => String(d.getDay()),
  y: (d) => pad(d.getFullYear() % 100),
  Y: (d) => String(d.getFullYear()),
  z: tzOffset,
  Z: zoneName,
  '%': () => '%',
}

/** Shorthand conversions, expanded before compiling. */
const SHORTHANDS: Record<string, string> = {
  c: '%a %b %e %H:%M:%S %Y',
  D: '%m/%d/%y',
  F: '%Y-%m-%d',
  r: '%I:%M:%S %p',
  R: '%H:%M',
  T: '%H:%M:%S',
  x: '%m/%d/%y',
  X: '%H:%M:%S',
}

/**
 * Compiles a strftime pattern (C locale, local time) into a formatter. Unknown conversions are
 * kept as written, as C's strftime does on most systems.
 */
export function compileStrftime(pattern: string): DateFormatter {
  const expanded = pattern.replace(/%([cDFrRTxX])/g, (_, c: string) => SHORTHANDS[c]!)
  const parts: (string | DateFormatter)[] = []
  let literal = ''
  for (let i = 0; i < expanded.length; i++) {
    const ch = expanded[i]!
    const fn = ch === '%' ? CONVERSIONS[expanded[i + 1] ?? ''] : undefined
    if (fn) {
      if (literal) parts.push(literal)
      literal = ''
      parts.push(fn)
      i++
    } else literal += ch
  }
  if (literal) parts.push(literal)
  return (date) => {
    let out = ''
    for (const part of parts) out += typeof part === 'string' ? part : part(date)
    return out
  }
}

let lastKey = Number.NaN
let lastOffset = Number.NaN
let lastClf = ''

/** Apache's common log format time, `10/Oct/2000:13:55:36 -0700`, cached per second. */
export function clfTime(date: Date): string {
  const second = Math.floor(date.getTime() / 1000)
  const offset = date.getTimezoneOffset()
  if (second === lastKey && offset === lastOffset) return lastClf
  const d = date
  const text = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())} ${tzOffset(d)}`
  lastKey = second
  lastOffset = offset
  lastClf = text
  return text
}
