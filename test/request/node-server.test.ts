/**
 * TsgiRequest under the real node server: bodies come from a socket on 127.0.0.1, uploads
 * are removed by the server's cleanup handlers.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpError } from '../../src/http-error.js'
import { TsgiRequest } from '../../src/request.js'
import { TsgiResponse } from '../../src/response.js'
import { serve, type TsgiServer } from '../../src/server/node.js'
import type { App } from '../../src/types.js'

let server: TsgiServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(app: App): Promise<string> {
  server = await serve(app, { port: 0, host: '127.0.0.1', errors: { write: () => true } })
  return server.url
}

// Answers an HttpError with its status, as the HTTPExceptions middleware would.
function withErrors(app: App): App {
  return async (env) => {
    try {
      return await app(env)
    } catch (err) {
      if (err instanceof HttpError) return TsgiResponse.text(err.message, err.status).finalize()
      throw err
    }
  }
}

describe('TsgiRequest on the node server', () => {
  it('saves a multi-MiB upload and the cleanup handlers remove it', async () => {
    const content = randomBytes(3 * 1024 * 1024)
    let savedPath = ''
    let savedContent: Buffer | undefined
    const url = await start(async (env) => {
      const req = new TsgiRequest(env)
      const upload = (await req.upload('file'))!
      savedPath = upload.path
      savedContent = await readFile(upload.path)
      return TsgiResponse.json({
        title: await req.param('title'),
        name: upload.filename,
        size: upload.size,
        type: upload.contentType,
      }).finalize()
    })
    const form = new FormData()
    form.append('title', 'report')
    form.append('file', new Blob([content], { type: 'application/pdf' }), 'report.pdf')
    const res = await fetch(url, { method: 'POST', body: form })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      title: 'report',
      name: 'report.pdf',
      size: content.length,
      type: 'application/pdf',
    })
    expect(savedContent?.equals(content)).toBe(true)
    await server!.close()
    expect(existsSync(savedPath)).toBe(false)
  })

  it('reads urlencoded, JSON and chunked bodies', async () => {
    const url = await start(
      withErrors(async (env) => {
        const req = new TsgiRequest(env)
        if (req.path === '/form') return TsgiResponse.json((await req.parameters()).toMixed()).finalize()
        if (req.path === '/json') return TsgiResponse.json(await req.json()).finalize()
        return TsgiResponse.text(await req.text()).finalize()
      }),
    )
    const form = await fetch(`${url}form?q=1`, {
      method: 'POST',
      body: new URLSearchParams([
        ['a', 'x y'],
        ['a', 'z'],
      ]),
    })
    expect(await form.json()).toEqual({ q: '1', a: ['x y', 'z'] })
    const json = await fetch(`${url}json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"ok":true}',
    })
    expect(await json.json()).toEqual({ ok: true })
    const bad = await fetch(`${url}json`, { method: 'POST', body: '{nope' })
    expect(bad.status).toBe(400)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk1-'))
        controller.enqueue(new TextEncoder().encode('chunk2'))
        controller.close()
      },
    })
    const chunked = await fetch(`${url}text`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(await chunked.text()).toBe('chunk1-chunk2')
  })

  it('answers 413 for a body over maxBodySize', async () => {
    const url = await start(
      withErrors(async (env) =>
        TsgiResponse.text(await new TsgiRequest(env, { maxBodySize: 100 }).text()).finalize(),
      ),
    )
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'x'.repeat(101),
    })
    expect(res.status).toBe(413)
    const big = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(60).fill(0x78))
        controller.close()
      },
    })
    const chunked = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: big,
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(413)
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'x'.repeat(100),
    })
    expect(await ok.text()).toBe('x'.repeat(100))
  })
})

describe('TsgiRequest on the node server: a client that disconnects mid-upload', () => {
  it('rejects the parse and leaves no partial temp file behind', async () => {
    const boundary = 'tsgi-abort-boundary'
    let uploadDir: string | undefined
    let partialSeen = false
    let settle: (outcome: unknown) => void = () => {}
    const outcome = new Promise<unknown>((resolve) => {
      settle = resolve
    })
    let bodyFlowing: () => void = () => {}
    const flowing = new Promise<void>((resolve) => {
      bodyFlowing = resolve
    })
    const url = await start(async (env) => {
      const input = env['tsgi.input']
      let relayed = 0
      // Relays the socket's bytes; once the file part is being written, says so and waits
      // until the partial temp file is on disk.
      env['tsgi.input'] = (async function* () {
        for await (const chunk of input) {
          yield chunk
          relayed += chunk.byteLength
          if (relayed > 256 * 1024 && !partialSeen) {
            for (;;) {
              uploadDir = env['tsgix.request.upload_dir']
              if (uploadDir !== undefined && existsSync(join(uploadDir, '0'))) break
              await new Promise((resolve) => setImmediate(resolve))
            }
            partialSeen = true
            bodyFlowing()
          }
        }
      })()
      const req = new TsgiRequest(env)
      try {
        settle(await req.uploads())
      } catch (err) {
        settle(err)
      }
      return [200, [], []]
    })
    const { port } = new URL(url)
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    const head =
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
      `Content-Length: ${10 * 1024 * 1024}\r\n\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`
    socket.write(head)
    const slice = Buffer.alloc(64 * 1024, 0x61)
    const pump = async () => {
      while (!partialSeen && !socket.destroyed) {
        if (!socket.write(slice)) await Promise.race([once(socket, 'drain'), flowing])
      }
    }
    await Promise.all([pump(), flowing])
    socket.destroy()
    const err = await outcome
    expect(err).toBeInstanceOf(HttpError)
    expect((err as HttpError).status).toBe(400)
    expect(uploadDir).toBeDefined()
    // Removed by the failed parse itself, before the server's cleanup handlers run.
    expect(existsSync(uploadDir!)).toBe(false)
    await server!.close()
    server = undefined
    expect(existsSync(uploadDir!)).toBe(false)
  })
})
