/**
 * Sessions: a visit counter kept in a server-side session (the Session middleware, a cookie
 * carrying the id, the data in the in-process memory store).
 *
 * Run it: `tsgiup examples/session.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/session.ts`).
 * Reload http://localhost:5000/ a few times; `/logout` ends the session. With curl:
 * `curl -c jar -b jar http://localhost:5000/`.
 *
 * The memory store lives in one process: under `--workers` or on several machines use
 * `fileStore` or `redisStore` instead.
 */
import type { App } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { memoryStore } from 'tsgi/middleware/session'

const counter: App = (env) => {
  const session = env['tsgix.session']
  const options = env['tsgix.session.options']
  if (!session || !options) throw new Error('the Session middleware is not enabled')
  if (env.PATH_INFO === '/logout') {
    options.expire = true
    return [303, ['Location', '/', 'Content-Type', 'text/plain'], ['Logged out']]
  }
  if (env.PATH_INFO !== '/') return [404, ['Content-Type', 'text/plain'], ['Not Found']]
  const visits = (typeof session.visits === 'number' ? session.visits : 0) + 1
  session.visits = visits
  return [200, ['Content-Type', 'text/plain; charset=utf-8'], [`visits: ${visits}\n`]]
}

export const app = builder(
  enable('Session', { store: memoryStore({ maxEntries: 1000 }), sessionKey: 'counter', maxAge: 3600 }),
  counter,
)

export default app
