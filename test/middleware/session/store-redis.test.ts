import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builder, enable } from '../../../builder/index.js'
import { generateId } from '../../../middleware/session/id.js'
import { type RedisStore, redisStore } from '../../../middleware/session/store-redis.js'
import { session } from '../../../middleware/session.js'
import { serve } from '../../../src/server/node.js'
import { testApp } from '../../../src/testing/index.js'
import type { App } from '../../../src/types.js'
import { RedisServer, redisBinary } from './redis-server.js'
import { storeSuite } from './store-suite.js'

const describeRedis = redisBinary ? describe : describe.skip
let redis: RedisServer
const stores: RedisStore[] = []
const newStore = (options: Parameters<typeof redisStore>[0] = {}) => {
  const store = redisStore({ url: redis.url, ...options })
  stores.push(store)
  return store
}

beforeAll(async () => {
  if (redisBinary) redis = await RedisServer.start()
})
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  await redis?.stop()
})

describeRedis('redisStore', () => {
  storeSuite('redisStore', async () => ({ store: newStore({ prefix: `suite:${generateId()}:` }) }))

  it('keeps values under the prefix as JSON text, with the TTL set by EX', async () => {
    const store = newStore({ prefix: 'p:' })
    const id = generateId()
    await store.set(id, '{"a":1}', 120)
    const client = (await store.client()) as unknown as { ttl(key: string): Promise<number> }
    expect(await (await store.client()).get(`p:${id}`)).toBe('{"a":1}')
    const ttl = await client.ttl(`p:${id}`)
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
  })

  it('accepts a client made by the caller, and leaves it open on close', async () => {
    const own = newStore()
    const client = await own.client()
    const store = redisStore({ client, prefix: 'given:' })
    const id = generateId()
    await store.set(id, 'v', 60)
    expect(await client.get(`given:${id}`)).toBe('v')
    await store.close()
    expect(await store.get(id)).toBe('v')
  })

  it('rejects when nothing listens, and connects on a later try', async () => {
    const store = redisStore({ url: 'redis://127.0.0.1:1', redisOptions: { connectTimeout: 500 } })
    await expect(store.connect()).rejects.toThrow()
    await expect(store.get(generateId())).rejects.toThrow()
    await store.close()
  })

  it.each([
    [{ client: {} }, /option 'client' must be a Redis client/],
    [{ client: { get() {} }, url: 'redis://x' }, /cannot be combined/],
    [{ redisOptions: [] }, /option 'redisOptions' must be an object/],
    [{ prefix: 1 }, /Session: option 'prefix' must be a string/],
    [{ host: 'x' }, /Session: unknown option 'host'/],
  ])('rejects %o', (options, message) => {
    expect(() => redisStore(options as never)).toThrow(message)
  })

  it('answers 503 while Redis is down (killed), and works again once it is back on the same port', async () => {
    const store = newStore({ prefix: `kill:${generateId()}:` })
    const counter: App = (env) => {
      const s = env['tsgix.session']!
      s.n = (Number(s.n) || 0) + 1
      return [200, ['Content-Type', 'text/plain'], [`n=${s.n}`]]
    }
    const app = session({ store })(counter)
    await testApp(
      app,
      async (fetch, { errors }) => {
        const first = await fetch('/')
        expect(await first.text()).toBe('n=1')
        const cookie = first.headers.get('set-cookie')!.split(';')[0]!
        const headers = { Cookie: cookie }
        expect(await (await fetch('/', { headers })).text()).toBe('n=2')

        const client = (await store.client()) as unknown as NodeJS.EventEmitter
        const closed = once(client, 'close')
        await redis.kill()
        await closed
        const down = await fetch('/', { headers })
        expect(down.status).toBe(503)
        expect(await down.text()).toMatch(/session store is not reachable/)
        expect(errors()).toMatch(/Session: the session store failed to read a session \(.+\); answered 503/)
        const fresh = await fetch('/')
        expect(fresh.status).toBe(503) // writing a new session fails as well
        expect(errors()).toMatch(/failed to save a session/)

        const ready = once(client, 'ready')
        await redis.restart()
        await ready
        const back = await fetch('/', { headers })
        expect(back.status).toBe(200)
        expect(await back.text()).toBe('n=1') // the data went with the killed server (no persistence)
      },
      { impl: 'Server' },
    )
  })
})

describeRedis('redisStore in the server lifespan', () => {
  const counter: App = (env) => {
    const s = env['tsgix.session']!
    s.n = (Number(s.n) || 0) + 1
    return [200, ['Content-Type', 'text/plain'], [`n=${s.n}`]]
  }

  /** How many connections named `name` Redis has, asked over another connection. */
  async function connections(name: string): Promise<number> {
    const client = (await newStore().client()) as unknown as { call(...args: string[]): Promise<string> }
    const list = await client.call('CLIENT', 'LIST')
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length
  }

  it('under builder and serve(), connects before serve() resolves and quits when close() ends', async () => {
    const name = `tsgi-lifespan-${generateId().slice(0, 12)}`
    const store = redisStore({
      url: redis.url,
      prefix: `life:${generateId()}:`,
      redisOptions: { connectionName: name },
    })
    stores.push(store)
    const errors: string[] = []
    const app = builder(enable('Session', { store }), counter)
    expect(await connections(name)).toBe(0)
    const server = await serve(app, { port: 0, host: '127.0.0.1', errors: { write: (m) => errors.push(m) } })
    expect(await connections(name)).toBe(1) // before any request
    const first = await fetch(server.url)
    expect(await first.text()).toBe('n=1')
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    expect(await (await fetch(server.url, { headers: { Cookie: cookie } })).text()).toBe('n=2')
    await server.close()
    expect(await connections(name)).toBe(0)
    expect(errors).toEqual([])
  })

  it('stops serve() with the error when Redis cannot be reached at startup, listening nowhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-redis-life-'))
    try {
      const store = redisStore({ url: 'redis://127.0.0.1:1', redisOptions: { connectTimeout: 500 } })
      const path = join(dir, 'app.sock')
      const app = builder(enable('Session', { store }), counter)
      await expect(serve(app, { path, errors: { write: () => {} } })).rejects.toBeInstanceOf(Error)
      expect(existsSync(path)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
