/**
 * A server process for the scale-out test: `node --import tsx fixture-app.ts <redis url>`
 * serves a session counter backed by that Redis on a free port, prints the port, and runs
 * until killed.
 */
import { redisStore, session } from '../../../middleware/session.js'
import { serve } from '../../../src/server/node.js'
import type { App } from '../../../src/types.js'

const url = process.argv[2]
if (!url) throw new Error('usage: fixture-app.ts <redis url>')

const app: App = (env) => {
  const s = env['tsgix.session']!
  if (env.PATH_INFO === '/set') s.name = env.QUERY_STRING
  s.count = (Number(s.count) || 0) + 1
  const body = JSON.stringify({ pid: process.pid, count: s.count, name: s.name ?? null })
  return [200, ['Content-Type', 'application/json'], [body]]
}

const server = await serve(session({ store: redisStore({ url, prefix: 'scale:' }) })(app), {
  port: 0,
  host: '127.0.0.1',
})
process.stdout.write(`${server.port}\n`)
