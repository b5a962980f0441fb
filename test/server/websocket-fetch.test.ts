/**
 * WebSocket through the fetch adapter on a real Deno (`Deno.serve` with `Deno.upgradeWebSocket`,
 * the `deno` npm package's binary), driven by `ws` clients from node: the handshake through
 * Session, messages both ways, close codes, a failing handler and the origin check.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { skipWithout } from './tls-fixture.js'

const root = join(import.meta.dirname, '..', '..')
const deno = join(root, 'node_modules', '.bin', 'deno')
const skip = skipWithout(
  'WebSocket on Deno',
  existsSync(deno) ? undefined : 'deno not found (the deno npm package: npm ci)',
)

let child: ChildProcess | undefined
let port = 0
let output = ''

/** Resolves with the next line of the Deno server's output matching `re`. */
function line(re: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      const found = output.split('\n').find((l) => re.test(l))
      if (found === undefined) return false
      child!.stdout!.off('data', check)
      resolve(found)
      return true
    }
    if (!check()) child!.stdout!.on('data', check)
  })
}

beforeAll(async () => {
  if (skip) return
  child = spawn(deno, ['run', '-A', '--sloppy-imports', join(root, 'test/fixtures/deno-websocket.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  })
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stdout!.on('data', (d: string) => {
    output += d
  })
  child.stderr!.on('data', (d: string) => {
    output += d
  })
  port = Number((await line(/^listening \d+/)).split(' ')[1])
}, 60_000)

afterAll(async () => {
  if (child === undefined) return
  child.kill()
  await once(child, 'exit')
})

function open(headers: Record<string, string> = {}, protocols: string[] = []) {
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, protocols, { headers })
  const messages: string[] = []
  client.on('message', (data) => messages.push(String(data)))
  return new Promise<{ client: WebSocket; upgrade: IncomingMessage; messages: string[] }>(
    (resolve, reject) => {
      let upgrade!: IncomingMessage
      client.once('upgrade', (res) => {
        upgrade = res
      })
      client.once('open', () => resolve({ client, upgrade, messages }))
      client.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)))
      client.once('error', reject)
    },
  )
}

async function nextMessage(client: WebSocket, messages: string[], count: number): Promise<string> {
  while (messages.length < count) await once(client, 'message')
  return messages[count - 1]!
}

function closeOf(client: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve([code, reason.toString()])))
}

describe.skipIf(skip)('WebSocket on Deno through toFetchHandler', () => {
  it('answers a plain request without tsgix.websocket', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(res.status).toBe(426)
  })

  it('accepts through Session: the cookie on the 101, then sent back on the next handshake', async () => {
    const first = await open({}, ['echo'])
    expect(first.client.protocol).toBe('echo')
    expect(await nextMessage(first.client, first.messages, 1)).toBe('visits 1 protocol echo')
    const cookie = first.upgrade.headers['set-cookie']?.[0]
    expect(cookie).toMatch(/^tsgi_session=/)
    first.client.send('hello deno')
    expect(await nextMessage(first.client, first.messages, 2)).toBe('hello deno')
    first.client.send(Buffer.from([1, 2, 3]))
    await once(first.client, 'message')
    first.client.close(1000)
    await closeOf(first.client)

    const second = await open({ Cookie: cookie!.split(';')[0]! })
    expect(await nextMessage(second.client, second.messages, 1)).toBe('visits 2 protocol -')
    second.client.close(1000)
  })

  it('reports close codes both ways, and the handler sees a clean close', async () => {
    const { client } = await open()
    client.send('close please')
    expect(await closeOf(client)).toEqual([4002, 'as asked'])
    await line(/^closed 4002 as asked false/)
  })

  it('closes the connection when the handler throws, and names the error', async () => {
    const { client } = await open()
    client.send('throw')
    const [code] = await closeOf(client)
    expect([1011, 4011]).toContain(code)
    await line(/WebSocket handler failed: Error: handler broke/)
  })

  it('refuses a handshake from another origin', async () => {
    await expect(open({ Origin: 'https://evil.example' })).rejects.toThrow(/refused: 403/)
  })
})
