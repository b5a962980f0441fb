/**
 * `sse()` with a real browser: headless Chromium (Debian's, driven by playwright-core) opens an
 * `EventSource` on a page the tsgi app serves. The app ends each response after three events
 * (the server drops the stream), the browser reconnects after the `retry` it was given, sending
 * `Last-Event-ID`, and the app resumes after that id; the page reports every id it received. The
 * last connection stays open, so its final event shows that events are passed on as they are
 * sent, not when a response ends.
 * Run on the node server directly, behind Deflater (the browser asks for br), and behind a real
 * nginx proxy (its response buffering on, as by default, and gzip on). Without chromium or nginx the tests skip
 * with a printed reason; with TSGI_REQUIRE_INTEGRATION=1 they fail instead.
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { builder, enable } from '../builder/index.js'
import { sse } from '../src/sse.js'
import type { App } from '../src/types.js'
import { launchChromium, skipChromium as skipWithoutChromium } from './server/browser-fixture.js'
import { nginxMissing, startNginx } from './server/nginx-fixture.js'
import { start } from './server/node-helpers.js'
import { skipWithout } from './server/tls-fixture.js'

const skipChromium = skipWithoutChromium('SSE Chromium tests')
const skipNginx = skipChromium || skipWithout('SSE Chromium test behind nginx', nginxMissing)

const PAGE = `<!doctype html><title>tsgi sse</title><script>
window.received = [];
window.done = false;
const source = new EventSource('/events');
source.addEventListener('tick', (e) => { window.received.push(e.lastEventId + ' ' + e.data); });
source.addEventListener('done', () => { source.close(); window.done = true; });
</script>`

/** What the app saw: the Last-Event-ID of each connection. */
interface Seen {
  readonly lastIds: (string | undefined)[]
}

/**
 * The page, and an event stream that sends three ticks from the id after `Last-Event-ID` and
 * then returns (the response ends); once six ticks are out it sends `done` instead and holds the
 * stream open until the page closes it.
 */
function resumingApp(): { app: App; seen: Seen } {
  const seen: Seen = { lastIds: [] }
  const app: App = (env) => {
    if (env.PATH_INFO !== '/events') return [200, ['Content-Type', 'text/html; charset=utf-8'], [PAGE]]
    return sse(env, async (stream) => {
      seen.lastIds.push(stream.lastEventId)
      const from = stream.lastEventId === undefined ? 1 : Number(stream.lastEventId) + 1
      if (from > 6) {
        // held open: \`done\` reaches the page only if each event is passed on as it is sent
        await stream.send({ event: 'done', data: 'bye' })
        await new Promise((resolve) => stream.signal.addEventListener('abort', resolve))
        return
      }
      // reconnect at once (the browser's default is 3 s); it keeps this for later reconnects
      if (from === 1) await stream.send({ retry: 20 })
      for (let id = from; id < from + 3; id++) {
        await stream.send({ id: String(id), event: 'tick', data: `tick ${id}` })
      }
    })
  }
  return { app, seen }
}

let browser: Browser | undefined
beforeAll(async () => {
  if (skipChromium) return
  browser = await launchChromium()
}, 30_000)
afterAll(async () => {
  await browser?.close()
})

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

/** What a page saw: the ticks, and the Content-Encoding of each event-stream response. */
interface Received {
  readonly ticks: string[]
  readonly encodings: string[]
}

/** Opens `url` in a new page and waits until it saw `done`. */
async function receivedAt(url: string): Promise<Received> {
  const page = await browser!.newPage()
  const encodings: string[] = []
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/events') encodings.push(r.headers()['content-encoding'] ?? 'identity')
  })
  try {
    await page.goto(url)
    await page.waitForFunction(() => (window as unknown as { done: boolean }).done, undefined, {
      timeout: 15_000,
    })
    const ticks = await page.evaluate(() => (window as unknown as { received: string[] }).received)
    return { ticks, encodings }
  } finally {
    await page.close()
  }
}

const GZIP = 'gzip on; gzip_types text/html text/event-stream; gzip_min_length 0;'
const TICKS = ['1 tick 1', '2 tick 2', '3 tick 3', '4 tick 4', '5 tick 5', '6 tick 6']

describe('sse: Chromium EventSource', () => {
  it.skipIf(skipChromium)(
    'reconnects after the server ends the stream, sends Last-Event-ID, and resumes after it',
    async () => {
      const { app, seen } = resumingApp()
      const { url, errors } = await start(app)
      expect(await receivedAt(`${url}/`)).toEqual({
        ticks: TICKS,
        encodings: ['identity', 'identity', 'identity'],
      })
      expect(seen.lastIds).toEqual([undefined, '3', '6'])
      expect(errors.text).toBe('')
    },
    30_000,
  )

  it.skipIf(skipChromium)(
    'the same behind Deflater: each event is flushed compressed (br, as Chromium asks)',
    async () => {
      const { app, seen } = resumingApp()
      const { url, errors } = await start(builder(enable('Deflater'), app))
      expect(await receivedAt(`${url}/`)).toEqual({ ticks: TICKS, encodings: ['br', 'br', 'br'] })
      expect(seen.lastIds).toEqual([undefined, '3', '6'])
      expect(errors.text).toBe('')
    },
    30_000,
  )

  it.skipIf(skipNginx)(
    'the same through nginx with gzip on (X-Accel-Buffering: no makes nginx flush each event)',
    async () => {
      const { app, seen } = resumingApp()
      const { url, errors } = await start(app)
      // nginx's buffering (on) leaves gzip unflushed unless the response says X-Accel-Buffering: no
      const nginx = await startNginx({ upstream: url, extra: GZIP })
      stops.push(nginx.stop)
      expect(await receivedAt(`${nginx.url}/`)).toEqual({ ticks: TICKS, encodings: ['gzip', 'gzip', 'gzip'] })
      expect(seen.lastIds).toEqual([undefined, '3', '6'])
      expect(errors.text).toBe('')
    },
    30_000,
  )
})
