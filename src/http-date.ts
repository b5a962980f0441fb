/**
 * HTTP-date (RFC 9110 §5.6.7): parsing of the three formats a recipient must accept
 * (IMF-fixdate, the obsolete RFC 850 and asctime forms) and formatting as IMF-fixdate.
 * Hand-written because `Date.parse` is implementation-defined and accepts far more than
 * HTTP-date (and reads a missing zone as local time), which a validator comparison must not.
 *
 * @example
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT') // 784111777000
 * formatHttpDate(784111777000) // 'Sun, 06 Nov 1994 08:49:37 GMT'
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const SHORT_DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const LONG_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']

const IMF = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const RFC850 = /^([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const ASCTIME = /^([A-Za-z]{3}) ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

/**
 * The instant an HTTP-date names, in milliseconds since the epoch, or `undefined` when `value`
 * is not a valid HTTP-date. Day and month names are matched without regard to case; the day
 * name is not checked against the date. A two-digit RFC 850 year that would lie more than 50
 * years after `now` is read as the latest past year with those digits, as RFC 9110 requires.
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  let m = IMF.exec(value)
  if (m) {
    if (!SHORT_DAYS.includes(m[1]!.toLowerCase())) return undefined
    return build(Number(m[4]), m[3]!, m[2]!, m[5]!, m[6]!, m[7]!)
  }
  m = RFC850.exec(value)
  if (m) {
    if (!LONG_DAYS.includes(m[1]!.toLowerCase())) return undefined
    const nowYear = new Date(now).getUTCFullYear()
    let year = Math.floor(nowYear / 100) * 100 + Number(m[4])
    if (year < nowYear - 50) year += 100
    if (year > nowYear + 50) year -= 100
    return build(year, m[3]!, m[2]!, m[5]!, m[6]!, m[7]!)
  }
  m = ASCTIME.exec(value)
  if (m) {
    if (!SHORT_DAYS.includes(m[1]!.toLowerCase())) return undefined
    return build(Number(m[7]), m[2]!, m[3]!.trim(), m[4]!, m[5]!, m[6]!)
  }
  return undefined
}

function build(
  year: number,
  month: string,
  day: string,
  h: string,
  min: string,
  s: string,
): number | undefined {
  const mon = MONTHS.indexOf(month.toLowerCase())
  const d = Number(day)
  const hour = Number(h)
  const minute = Number(min)
  // A leap second (60) is read as the last second of its minute.
  const second = Math.min(Number(s), 59)
  if (mon < 0 || d < 1 || hour > 23 || minute > 59 || Number(s) > 60) return undefined
  const date = new Date(0)
  date.setUTCFullYear(year, mon, d)
  date.setUTCHours(hour, minute, second, 0)
  // Rejects days past the end of the month (31 Feb would roll over into March).
  if (date.getUTCMonth() !== mon || date.getUTCDate() !== d) return undefined
  return date.getTime()
}

/** `time` (a Date or milliseconds since the epoch) as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function formatHttpDate(time: Date | number): string {
  return (typeof time === 'number' ? new Date(time) : time).toUTCString()
}
