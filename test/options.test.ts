import { describe, expect, it } from 'vitest'
import {
  checkOptions,
  optionBoolean,
  optionFunction,
  optionNumber,
  optionOneOf,
  optionString,
} from '../src/options.js'

describe('checkOptions', () => {
  it('returns an empty record for undefined and the object itself otherwise', () => {
    expect(checkOptions('X', undefined, ['a'])).toEqual({})
    const options = { a: 1 }
    expect(checkOptions('X', options, ['a'])).toBe(options)
    expect(options).toEqual({ a: 1 })
  })

  it.each([
    [null, /X: options must be an object, got null/],
    ['str', /X: options must be an object, got 'str'/],
    [[1], /X: options must be an object, got an array/],
    [() => 1, /X: options must be an object, got a function/],
    [{ a: 1, b: 2 }, /X: unknown option 'b' \(known options: a\)/],
  ])('rejects %j', (options, message) => {
    expect(() => checkOptions('X', options, ['a'])).toThrow(TypeError)
    expect(() => checkOptions('X', options, ['a'])).toThrow(message)
  })

  it('says when a component takes no options', () => {
    expect(() => checkOptions('Y', { a: 1 }, [])).toThrow(/Y: unknown option 'a' \(known options: none\)/)
  })
})

describe('typed option readers', () => {
  const bag = { s: 'str', b: false, f: () => 1, n: 3, big: 1e9, frac: 1.5, nan: Number.NaN, mode: 'fast' }

  it('reads present values and undefined for absent optional ones', () => {
    expect(optionString('X', bag, 's')).toBe('str')
    expect(optionBoolean('X', bag, 'b')).toBe(false)
    expect(optionFunction<() => number>('X', bag, 'f', { required: true })()).toBe(1)
    expect(optionNumber('X', bag, 'n', { min: 0, max: 10, integer: true })).toBe(3)
    expect(optionOneOf('X', bag, 'mode', ['fast', 'slow'] as const)).toBe('fast')
    expect(optionString('X', bag, 'missing')).toBeUndefined()
  })

  it.each([
    [() => optionString('X', bag, 'n'), /X: option 'n' must be a string, got 3/],
    [() => optionBoolean('X', bag, 's'), /X: option 's' must be a boolean, got 'str'/],
    [() => optionFunction('X', bag, 's'), /X: option 's' must be a function/],
    [() => optionNumber('X', bag, 'nan'), /X: option 'nan' must be a finite number, got NaN/],
    [() => optionNumber('X', bag, 'frac', { integer: true }), /must be an integer, got 1.5/],
    [() => optionNumber('X', bag, 'big', { max: 100 }), /must be a finite number <= 100/],
    [() => optionNumber('X', bag, 'n', { min: 5 }), /must be a finite number >= 5/],
    [() => optionNumber('X', bag, 'n', { min: 5, max: 9 }), /between 5 and 9/],
    [() => optionOneOf('X', bag, 'mode', ['a', 'b']), /X: option 'mode' must be one of 'a', 'b', got 'fast'/],
    [
      () => optionString('X', bag, 'missing', { required: true }),
      /X: option 'missing' is required \(a string\)/,
    ],
  ])('throws a TypeError naming the component and option (%#)', (read, message) => {
    expect(read).toThrow(TypeError)
    expect(read).toThrow(message)
  })
})
