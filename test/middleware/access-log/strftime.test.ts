import { describe, expect, it } from 'vitest'
import { clfTime, compileStrftime, tzOffset } from '../../../middleware/access-log/strftime.js'
import { pinTimeZone } from '../log-capture.js'

pinTimeZone('Asia/Kolkata') // +0530: a half-hour offset

// Sunday 2024-03-03 07:04:05 in Kolkata.
const date = new Date('2024-03-03T01:34:05Z')

describe('compileStrftime', () => {
  it.each<[string, string]>([
    ['%a %A', 'Sun Sunday'],
    ['%b %h %B', 'Mar Mar March'],
    ['%C %y %Y', '20 24 2024'],
    ['%d|%e|%j', '03| 3|063'],
    ['%H %I %k %l %p', '07 07  7  7 AM'],
    ['%M %S %s', `04 05 ${date.getTime() / 1000}`],
    ['%m', '03'],
    ['%u %w', '7 0'],
    ['%z', '+0530'],
    ['%D|%F|%T|%R|%r', '03/03/24|2024-03-03|07:04:05|07:04|07:04:05 AM'],
    ['%c', 'Sun Mar  3 07:04:05 2024'],
    ['100%% %n%t', '100% \n\t'],
    ['%Q stays', '%Q stays'],
    ['trailing %', 'trailing %'],
  ])('%j', (pattern, expected) => {
    expect(compileStrftime(pattern)(date)).toBe(expected)
  })

  it('formats the common log time', () => {
    expect(clfTime(date)).toBe('03/Mar/2024:07:04:05 +0530')
    expect(clfTime(new Date(date.getTime() + 999))).toBe('03/Mar/2024:07:04:05 +0530')
    expect(clfTime(new Date(date.getTime() + 1000))).toBe('03/Mar/2024:07:04:06 +0530')
  })

  it('gives negative offsets with a minus sign', () => {
    process.env.TZ = 'America/St_Johns'
    expect(tzOffset(new Date('2024-01-15T12:00:00Z'))).toBe('-0330')
    process.env.TZ = 'Asia/Kolkata'
  })
})
