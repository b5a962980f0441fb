/**
 * Option checking for middleware and app factories: every factory validates its own options
 * once, when it is built, and throws a `TypeError` that names the component and the option.
 *
 * @example
 * export function xFramework(options: XFrameworkOptions): Middleware {
 *   const opts = checkOptions('XFramework', options, ['framework'])
 *   const framework = optionString('XFramework', opts, 'framework', { required: true })
 *   return (app) => ...
 * }
 */

/** Options as a factory sees them after {@link checkOptions}: a read-only record. */
export type OptionBag = Readonly<Record<string, unknown>>

/** How one option is read. */
export interface OptionRule {
  /** Throw when the option is missing (`undefined`). @default false */
  readonly required?: boolean
}

/** Number rules: bounds and integrality. */
export interface NumberRule extends OptionRule {
  /** Smallest allowed value. */
  readonly min?: number
  /** Largest allowed value. */
  readonly max?: number
  /** Only whole numbers. @default false */
  readonly integer?: boolean
}

/** A rule that makes the option required: the validators then return the value type alone. */
export interface RequiredRule extends OptionRule {
  readonly required: true
}

/** Any function; narrow it with the type parameter of {@link optionFunction}. */
export type AnyFunction = (...args: never[]) => unknown

/**
 * Checks that `options` is `undefined` or a plain object whose own keys are all in `allowedKeys`,
 * and returns it as a record (an empty one for `undefined`). The caller's object is not copied
 * or changed.
 */
export function checkOptions(component: string, options: unknown, allowedKeys: readonly string[]): OptionBag {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${component}: options must be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!allowedKeys.includes(key)) {
      const known = allowedKeys.length ? allowedKeys.join(', ') : 'none'
      throw new TypeError(`${component}: unknown option '${key}' (known options: ${known})`)
    }
  }
  return options as OptionBag
}

/** Reads a string option. */
export function optionString(component: string, options: OptionBag, key: string, rule: RequiredRule): string
export function optionString(
  component: string,
  options: OptionBag,
  key: string,
  rule?: OptionRule,
): string | undefined
export function optionString(component: string, options: OptionBag, key: string, rule?: OptionRule) {
  return read(component, options, key, rule, (v) => typeof v === 'string', 'a string')
}

/** Reads a boolean option. */
export function optionBoolean(component: string, options: OptionBag, key: string, rule: RequiredRule): boolean
export function optionBoolean(
  component: string,
  options: OptionBag,
  key: string,
  rule?: OptionRule,
): boolean | undefined
export function optionBoolean(component: string, options: OptionBag, key: string, rule?: OptionRule) {
  return read(component, options, key, rule, (v) => typeof v === 'boolean', 'a boolean')
}

/** Reads a function option; `F` is the function type the caller expects (only `typeof` is checked). */
export function optionFunction<F extends AnyFunction = AnyFunction>(
  component: string,
  options: OptionBag,
  key: string,
  rule: RequiredRule,
): F
export function optionFunction<F extends AnyFunction = AnyFunction>(
  component: string,
  options: OptionBag,
  key: string,
  rule?: OptionRule,
): F | undefined
export function optionFunction(component: string, options: OptionBag, key: string, rule?: OptionRule) {
  return read(component, options, key, rule, (v) => typeof v === 'function', 'a function')
}

/** Reads a finite number option, with optional bounds and integrality. */
export function optionNumber(
  component: string,
  options: OptionBag,
  key: string,
  rule: NumberRule & RequiredRule,
): number
export function optionNumber(
  component: string,
  options: OptionBag,
  key: string,
  rule?: NumberRule,
): number | undefined
export function optionNumber(component: string, options: OptionBag, key: string, rule?: NumberRule) {
  const { min, max, integer } = rule ?? {}
  let expected = integer ? 'an integer' : 'a finite number'
  if (min !== undefined && max !== undefined) expected += ` between ${min} and ${max}`
  else if (min !== undefined) expected += ` >= ${min}`
  else if (max !== undefined) expected += ` <= ${max}`
  const ok = (v: unknown) =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!integer || Number.isInteger(v)) &&
    (min === undefined || v >= min) &&
    (max === undefined || v <= max)
  return read(component, options, key, rule, ok, expected)
}

/** Reads an option that must be one of the given strings. */
export function optionOneOf<T extends string>(
  component: string,
  options: OptionBag,
  key: string,
  values: readonly T[],
  rule: RequiredRule,
): T
export function optionOneOf<T extends string>(
  component: string,
  options: OptionBag,
  key: string,
  values: readonly T[],
  rule?: OptionRule,
): T | undefined
export function optionOneOf(
  component: string,
  options: OptionBag,
  key: string,
  values: readonly string[],
  rule?: OptionRule,
) {
  const expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`
  return read(component, options, key, rule, (v) => values.includes(v as string), expected)
}

function read(
  component: string,
  options: OptionBag,
  key: string,
  rule: OptionRule | undefined,
  ok: (value: unknown) => boolean,
  expected: string,
): unknown {
  const value = options[key]
  if (value === undefined) {
    if (rule?.required) throw new TypeError(`${component}: option '${key}' is required (${expected})`)
    return undefined
  }
  if (!ok(value)) {
    throw new TypeError(`${component}: option '${key}' must be ${expected}, got ${describe(value)}`)
  }
  return value
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
