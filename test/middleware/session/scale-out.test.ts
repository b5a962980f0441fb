/**
 * Scale-out: two separate server processes share one redis-server; a session created through
 * one is read and changed through the other.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisServer, redisBinary } from './redis-server.js'

const fixture = join(import.meta.dirname, 'fixture-app.ts')
let redis: RedisServer
const children: ChildProcess[] = []

async function startServer(url: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`fixture server exited with ${code}`)
    }),
  ])) as [string]
  return `http://127.0.0.1:${line.trim()}`
}

beforeAll(async () => {
  if (redisBinary) redis = await RedisServer.start()
}, 30_000)
afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill()
      await exited
    }),
  )
  await redis?.stop()
})

describe.runIf(redisBinary)('Session with the Redis store across two server processes', () => {
  it('a session made through one process is read and changed through the other', {
    timeout: 30_000,
  }, async () => {
    const [a, b] = await Promise.all([startServer(redis.url), startServer(redis.url)])
    const first = await fetch(`${a}/set?alice`)
    const one = await first.json()
    expect(one).toMatchObject({ count: 1, name: 'alice' })
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    expect(cookie).toMatch(/^tsgi_session=[A-Za-z0-9_-]{32}$/)

    const two = await (await fetch(`${b}/`, { headers: { Cookie: cookie } })).json()
    expect(two).toMatchObject({ count: 2, name: 'alice' })
    expect(two.pid).not.toBe(one.pid)

    const renamed = await (await fetch(`${b}/set?bob`, { headers: { Cookie: cookie } })).json()
    expect(renamed).toMatchObject({ count: 3, name: 'bob' })
    const back = await (await fetch(`${a}/`, { headers: { Cookie: cookie } })).json()
    expect(back).toMatchObject({ pid: one.pid, count: 4, name: 'bob' })

    // A second client never sees the first one's session.
    const other = await (await fetch(`${b}/`)).json()
    expect(other).toMatchObject({ count: 1, name: null })
  })
})
