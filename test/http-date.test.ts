import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatHttpDate, parseHttpDate } from '../src/http-date.js'

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37)
const NOW = Date.UTC(2025, 5, 1)

describe('parseHttpDate', () => {
  it.each<[string, number | undefined]>([
    ['Sun, 06 Nov 1994 08:49:37 GMT', NOV_6_1994],
    ['Sunday, 06-Nov-94 08:49:37 GMT', NOV_6_1994],
    ['Sun Nov  6 08:49:37 1994', NOV_6_1994],
    ['Sun Nov 06 08:49:37 1994', NOV_6_1994],
    ['sun, 06 nov 1994 08:49:37 GMT', NOV_6_1994],
    ['Thu, 01 Jan 1970 00:00:00 GMT', 0],
    ['Wed, 31 Dec 1969 23:59:59 GMT', -1000],
    ['Tue, 30 Jun 2015 23:59:60 GMT', Date.UTC(2015, 5, 30, 23, 59, 59)],
    ['Thu, 29 Feb 2024 12:00:00 GMT', Date.UTC(2024, 1, 29, 12)],
    ['Fri, 31 Dec 9999 23:59:59 GMT', Date.UTC(9999, 11, 31, 23, 59, 59)],
    ['Mon, 01 Jan 0001 00:00:00 GMT', new Date('0001-01-01T00:00:00Z').getTime()],
    ['Thu, 29 Feb 2023 12:00:00 GMT', undefined],
    ['Sun, 31 Nov 1994 08:49:37 GMT', undefined],
    ['Sun, 00 Nov 1994 08:49:37 GMT', undefined],
    ['Sun, 06 Nov 1994 24:00:00 GMT', undefined],
    ['Sun, 06 Nov 1994 08:60:00 GMT', undefined],
    ['Sun, 06 Nov 1994 08:49:61 GMT', undefined],
    ['Sun, 06 Xyz 1994 08:49:37 GMT', undefined],
    ['Xyz, 06 Nov 1994 08:49:37 GMT', undefined],
    ['Sun, 06 Nov 1994 08:49:37 UTC', undefined],
    ['Sun, 06 Nov 1994 08:49:37', undefined],
    ['Sun, 6 Nov 1994 08:49:37 GMT', undefined],
    [' Sun, 06 Nov 1994 08:49:37 GMT', undefined],
    ['Sunny, 06-Nov-94 08:49:37 GMT', undefined],
    ['1994-11-06T08:49:37Z', undefined],
    ['784111777', undefined],
    ['', undefined],
  ])('%j → %s', (value, expected) => {
    expect(parseHttpDate(value, NOW)).toBe(expected)
  })

  it.each<[string, number, number]>([
    ['Monday, 01-Jan-74 00:00:00 GMT', NOW, Date.UTC(2074, 0, 1)],
    ['Tuesday, 01-Jan-76 00:00:00 GMT', NOW, Date.UTC(1976, 0, 1)],
    ['Wednesday, 01-Jan-20 00:00:00 GMT', Date.UTC(1990, 0, 1), Date.UTC(2020, 0, 1)],
    ['Sunday, 01-Jan-51 00:00:00 GMT', Date.UTC(1990, 0, 1), Date.UTC(1951, 0, 1)],
  ])('reads the two-digit year of %j relative to now (RFC 9110 §5.6.7)', (value, now, expected) => {
    expect(parseHttpDate(value, now)).toBe(expected)
  })

  it('reads back every formatted date (whole seconds, years 1000 to 9999)', () => {
    const min = Date.UTC(1000, 0, 1)
    const max = Date.UTC(9999, 11, 31, 23, 59, 59)
    fc.assert(
      fc.property(fc.integer({ min: min / 1000, max: max / 1000 }), (seconds) => {
        expect(parseHttpDate(formatHttpDate(seconds * 1000))).toBe(seconds * 1000)
      }),
    )
  })

  it('reads the asctime form of any date the same as its IMF-fixdate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) / 1000 }), (seconds) => {
        const d = new Date(seconds * 1000)
        const [day, dd, mon, yyyy, time] = formatHttpDate(d).replace(',', '').split(' ')
        const asctime = `${day} ${mon} ${dd!.replace(/^0/, ' ')} ${time} ${yyyy}`
        expect(parseHttpDate(asctime)).toBe(seconds * 1000)
      }),
    )
  })

  it('never throws and returns a whole second or undefined for any input', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const out = parseHttpDate(value)
        expect(out === undefined || (Number.isInteger(out) && out % 1000 === 0)).toBe(true)
      }),
    )
  })
})

describe('formatHttpDate', () => {
  it('formats an IMF-fixdate from a Date or milliseconds', () => {
    expect(formatHttpDate(NOV_6_1994)).toBe('Sun, 06 Nov 1994 08:49:37 GMT')
    expect(formatHttpDate(new Date(NOV_6_1994 + 999))).toBe('Sun, 06 Nov 1994 08:49:37 GMT')
  })
})
