/**
 * How Lint shows an offending value in a message: strings quoted (and shortened), numbers and
 * other primitives as they are, objects by kind, so a message never dumps a whole body or env.
 */

const MAX = 60

/** A short description of `value` for a message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > MAX ? `${value.slice(0, MAX)}…` : value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return value.toString()
  if (value === null || typeof value !== 'object') return String(value)
  if (Array.isArray(value)) return `an array of ${value.length} element${value.length === 1 ? '' : 's'}`
  const ctor: unknown = Object.getPrototypeOf(value)?.constructor
  const name = typeof ctor === 'function' ? ctor.name : ''
  if (name === '' || name === 'Object') return 'an object'
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`
}

/** `env.KEY` for plain keys, `env['tsgi.key']` for dotted ones. */
export function envKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `env.${key}` : `env['${key}']`
}

/** `U+0011`: a code point as Unicode writes it. */
export function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}
