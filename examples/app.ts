/**
 * The demo app: `npm start` serves it with tsgiup on http://localhost:5000/ (or run
 * `tsgiup examples/app.ts`, which uses its default export).
 *
 * It shows the builder (`enable`, `enableIf`, `mount`), a path parameter in a mount, a
 * custom middleware written with responseCb, a streamed body and a writer response.
 */

import { type App, headerSet, type Middleware, responseCb } from 'tsgi'
import { builder, enable, enableIf, mount } from 'tsgi/builder'

/** A custom middleware: times each request and says so in a response header. */
const responseTime: Middleware = (app) =>
  function responseTime(env) {
    const start = performance.now()
    return responseCb(app(env), (res) => {
      headerSet(res[1], 'X-Response-Time', `${(performance.now() - start).toFixed(2)}ms`)
    })
  }

/** A custom middleware that shouts: used only when the client asks with ?loud. */
const loud: Middleware = (app) => (env) =>
  responseCb(app(env), () => (chunk) => (chunk === null ? null : String(chunk).toUpperCase()))

const home: App = () => [
  200,
  ['Content-Type', 'text/html; charset=utf-8'],
  [
    '<!doctype html><title>tsgi demo</title><h1>tsgi demo</h1><ul>',
    '<li><a href="/hello">/hello</a> a plain answer (try <a href="/hello?loud">?loud</a>)</li>',
    '<li><a href="/users/42">/users/42</a> a path parameter</li>',
    '<li><a href="/stream">/stream</a> a streamed body</li>',
    '<li><a href="/clock">/clock</a> a writer response, one line a second for five seconds</li>',
    '</ul>',
  ],
]

const hello: App = (env) => [
  200,
  ['Content-Type', 'text/plain; charset=utf-8'],
  [`Hello from ${env.PATH_INFO || '/'}\n`],
]

const user: App = (env) => {
  const id = env['tsgix.route.params']?.id
  return [200, ['Content-Type', 'application/json'], [JSON.stringify({ id, path: env.PATH_INFO })]]
}

const stream: App = () => [
  200,
  ['Content-Type', 'text/plain; charset=utf-8'],
  (async function* count() {
    for (let i = 1; i <= 5; i++) yield `line ${i}\n`
  })(),
]

const clock: App = (env) => async (respond) => {
  const writer = respond([200, ['Content-Type', 'text/plain; charset=utf-8']])
  const signal = env['tsgix.signal']
  for (let i = 0; i < 5 && !signal?.aborted; i++) {
    await writer.write(`${new Date().toISOString()}\n`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  await writer.close()
}

export const app = builder(
  enable(() => responseTime),
  enableIf(
    (env) => /(^|&)loud(=|&|$)/.test(env.QUERY_STRING),
    () => loud,
  ),
  mount('/hello', hello),
  mount('/users/:id', user),
  mount('/stream', stream),
  mount('/clock', clock),
  mount('/', home),
)

export default app
