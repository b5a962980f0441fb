/**
 * The runnable examples, each served by the real `tsgiup` from source (as README says to run
 * them), asked what proves it works, then stopped with SIGTERM: it must exit 0 and write
 * nothing to stderr but tsgiup's own lines (no application error, no Lint warning).
 */
import { once } from 'node:events'
import { type IncomingMessage, request } from 'node:http'
import { createGunzip } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { killAll, root, type Tsgiup, tsgiup } from './cli/spawn.js'

afterEach(killAll)

/** `node --conditions=tsgi-source --import tsx src/cli/bin.ts -p 0 -E production <file>`, from the repo root. */
async function serveExample(file: string): Promise<{ t: Tsgiup; base: string }> {
  const t = tsgiup(['-p', '0', '-E', 'production', file], {
    cwd: root,
    command: ['--conditions=tsgi-source', '--import', 'tsx', 'src/cli/bin.ts'],
  })
  const port = new URL(await t.url()).port
  return { t, base: `http://127.0.0.1:${port}` }
}

/** SIGTERM, then: exit code 0 and no stderr line other than tsgiup's own. */
async function stop(t: Tsgiup): Promise<void> {
  t.child.kill('SIGTERM')
  expect(await t.exited).toBe(0)
  expect(t.lines.filter((line) => !line.startsWith('tsgiup: '))).toEqual([])
}

/**
 * Opens `path` as an event stream (with `headers`), reads until the first `tick` event has
 * arrived whole, then aborts the request. Resolves with the response head and that text.
 */
function firstEvent(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, unknown>; text: string }> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        agent: false,
        headers: { Accept: 'text/event-stream', ...headers },
      },
      (res) => {
        const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res
        let text = ''
        body.setEncoding('utf8')
        body.on('data', (chunk: string) => {
          text += chunk
          if (/event: tick\n(?:id: [^\n]*\n)?data: [^\n]*\n\n/.test(text)) {
            resolve({ headers: res.headers, text })
            req.destroy() // the client goes away mid-stream
          }
        })
        body.on('error', reject)
        res.on('end', () => reject(new Error(`the event stream ended before an event: ${text}`)))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('examples, served by tsgiup', () => {
  it('app.ts: mounts, a path parameter, a custom middleware and ?loud', async () => {
    const { t, base } = await serveExample('examples/app.ts')
    const hello = await fetch(`${base}/hello`)
    expect(hello.status).toBe(200)
    expect(hello.headers.get('x-response-time')).toMatch(/^\d+\.\d\dms$/)
    expect(await hello.text()).toBe('Hello from /\n')
    expect(await (await fetch(`${base}/hello/there?loud`)).text()).toBe('HELLO FROM /THERE\n')
    expect(await (await fetch(`${base}/users/42`)).json()).toEqual({ id: '42', path: '' })
    expect(await (await fetch(`${base}/stream`)).text()).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n')
    await stop(t)
  })

  it('sse.ts: a gzip-compressed event stream whose first event arrives at once, then the client leaves', async () => {
    const { t, base } = await serveExample('examples/sse.ts')
    const page = await fetch(base)
    expect(await page.text()).toContain('new EventSource("events")')

    const { headers, text } = await firstEvent(base, '/events', { 'Accept-Encoding': 'gzip' })
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers['content-encoding']).toBe('gzip')
    expect(headers.vary).toBe('Accept-Encoding')
    expect(text).toMatch(/^retry: 2000\n\nevent: tick\nid: 1\ndata: \d{4}-\d\d-\d\dT[\d:.]+Z\n\n$/)
    await stop(t)
  })

  it('sse.ts: a reconnecting client resumes after its Last-Event-ID', async () => {
    const { t, base } = await serveExample('examples/sse.ts')
    const { headers, text } = await firstEvent(base, '/events', {
      'Accept-Encoding': 'identity',
      'Last-Event-ID': '41',
    })
    expect(headers['content-encoding']).toBeUndefined()
    expect(text).toContain('event: tick\nid: 42\n')
    await stop(t)
  })

  it('websocket.ts: two chat clients hear each other, with the Session cookie on the 101', async () => {
    const { t, base } = await serveExample('examples/websocket.ts')
    expect(await (await fetch(base)).text()).toContain('new WebSocket(')
    expect((await fetch(`${base}/chat`)).status).toBe(426)
    const url = `${base.replace(/^http/, 'ws')}/chat`
    const join = async () => {
      const client = new WebSocket(url, ['chat'])
      const heard: string[] = []
      client.on('message', (data) => heard.push(String(data)))
      // ws emits 'open' in the same turn as 'upgrade'
      const opened = once(client, 'open')
      const [upgrade] = (await once(client, 'upgrade')) as [IncomingMessage]
      await opened
      return { client, heard, upgrade }
    }
    const ann = await join()
    expect(ann.client.protocol).toBe('chat')
    expect(ann.upgrade.headers['set-cookie']?.[0]).toMatch(/^tsgi_session=/)
    const bob = await join()
    while (ann.heard.length < 2) await once(ann.client, 'message')
    expect(ann.heard[1]).toMatch(/^guest-\d+ joined \(2 here\)$/)
    ann.client.send('hello')
    while (bob.heard.length < 2) await once(bob.client, 'message')
    expect(bob.heard[1]).toMatch(/^guest-\d+: hello$/)
    ann.client.close(1000)
    bob.client.close(1000)
    await Promise.all([once(ann.client, 'close'), once(bob.client, 'close')])
    await stop(t)
  })

  it('upload.ts: a multipart upload is listed with its name and size', async () => {
    const { t, base } = await serveExample('examples/upload.ts')
    const form = await fetch(base)
    expect(form.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await form.text()).toContain('enctype="multipart/form-data"')

    const data = new FormData()
    data.append('file', new File(['hello, world'], 'hello.txt', { type: 'text/plain' }))
    data.append('file', new File([new Uint8Array(2048)], '<zeros>.bin', { type: 'application/octet-stream' }))
    data.append('note', 'two files')
    const res = await fetch(base, { method: 'POST', body: data })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<li><b>hello.txt</b>: 12 bytes, text/plain</li>')
    expect(html).toContain('<li><b>&#60;zeros&#62;.bin</b>: 2048 bytes, application/octet-stream</li>')
    expect(html).toContain('<p>Note: two files</p>')
    await stop(t)
  })

  it('session.ts: the counter goes up with the session cookie and starts again without it', async () => {
    const { t, base } = await serveExample('examples/session.ts')
    const first = await fetch(base)
    expect(await first.text()).toBe('visits: 1\n')
    const setCookie = first.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^counter=[\w-]{32}; /)
    const cookie = setCookie.split(';', 1)[0]!

    const second = await fetch(base, { headers: { Cookie: cookie } })
    expect(await second.text()).toBe('visits: 2\n')
    expect(await (await fetch(base)).text()).toBe('visits: 1\n')

    const logout = await fetch(`${base}/logout`, { headers: { Cookie: cookie }, redirect: 'manual' })
    expect(logout.status).toBe(303)
    expect(logout.headers.get('set-cookie')).toMatch(/^counter=; .*Max-Age=0/)
    expect(await (await fetch(base, { headers: { Cookie: cookie } })).text()).toBe('visits: 1\n')
    await stop(t)
  })

  it('static.ts: files with an ETag and 304 on revalidation, and directory listings', async () => {
    const { t, base } = await serveExample('examples/static.ts')
    const file = await fetch(`${base}/session.ts`)
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    const etag = file.headers.get('etag')
    expect(etag).toMatch(/^"[^"]+"$/)
    expect(await file.text()).toContain('memoryStore')

    const again = await fetch(`${base}/session.ts`, { headers: { 'If-None-Match': etag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')

    const listing = await fetch(`${base}/`)
    expect(listing.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await listing.text()
    for (const name of ['app.ts', 'sse.ts', 'static.ts', 'upload.ts', 'websocket.ts'])
      expect(html).toContain(`>${name}<`)
    expect((await fetch(`${base}/missing.ts`)).status).toBe(404)
    await stop(t)
  })
})
