/**
 * XFramework — adds an `X-Framework` header naming the framework that served the response.
 *
 * Env keys: none read, none added.
 *
 * @example
 * builder(enable('XFramework', { framework: 'MyApp' }), app)
 * @see Plack::Middleware::XFramework
 */
import { headerSet, isHeaderValue } from '../src/headers.js'
import { checkOptions, optionString } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link xFramework}. */
export interface XFrameworkOptions {
  /** The header's value: the framework's name. Required, non-empty. */
  readonly framework: string
}

/** Sets `X-Framework` on every response. */
export function xFramework(options: XFrameworkOptions): Middleware {
  const opts = checkOptions('XFramework', options, ['framework'])
  const framework = optionString('XFramework', opts, 'framework', { required: true })
  if (framework === '' || !isHeaderValue(framework)) {
    throw new TypeError("XFramework: option 'framework' must be a non-empty header value")
  }
  return (app) =>
    function xFramework(env) {
      return responseCb(app(env), (res) => {
        headerSet(res[1], 'X-Framework', framework)
      })
    }
}
