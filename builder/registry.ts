/**
 * The built-in middleware the builder knows by their Plack names: a static, typed table from
 * each name to its options type and factory. Each factory validates its own options (unknown
 * keys included) and throws a TypeError naming itself, so the builder needs no per-name code.
 *
 * To add a built-in: one line in {@link BuiltinMiddleware} and one in {@link builtins}.
 */
import { type ConditionalOptions, conditional } from '../middleware/conditional.js'
import { type LintOptions, lint } from '../middleware/lint.js'
import type { Middleware } from '../src/types.js'

/** Plack name → options type of every built-in middleware. `| undefined`: options may be left out. */
export interface BuiltinMiddleware {
  Lint: LintOptions | undefined
  Conditional: ConditionalOptions
}

/** A Plack middleware name the builder knows. */
export type BuiltinName = keyof BuiltinMiddleware

/** The factory type of each built-in. */
export type BuiltinFactories = { readonly [N in BuiltinName]: (options: BuiltinMiddleware[N]) => Middleware }

/** Plack name → factory. */
export const builtins = {
  Lint: lint,
  Conditional: conditional,
} as const satisfies BuiltinFactories

/** True when `name` is a built-in's Plack name. */
export function isBuiltinName(name: string): name is BuiltinName {
  return Object.hasOwn(builtins, name)
}

/** Builds the built-in `name` with `options`; throws a TypeError for an unknown name. */
export function buildBuiltin(name: string, options: unknown): Middleware {
  if (!isBuiltinName(name)) {
    throw new TypeError(
      `enable: unknown middleware '${name}' (built-ins: ${Object.keys(builtins).join(', ')})`,
    )
  }
  // Options are checked at run time by the factory itself; the name/options pairing is
  // enforced by the types of `enable`.
  const factory = builtins[name] as (options: unknown) => Middleware
  return factory(options)
}
