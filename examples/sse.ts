/**
 * Server-Sent Events: a clock that sends the time once a second as `text/event-stream`,
 * written through a writer, compressed by Deflater (which flushes after every event).
 *
 * Run it: `tsgiup examples/sse.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/sse.ts`).
 * Open http://localhost:5000/ and watch the clock; `curl -N http://localhost:5000/events`
 * shows the raw stream.
 *
 * It honours `tsgix.signal`: when the browser tab closes (or the server shuts down), the signal
 * aborts, the pending timer is cancelled and the loop ends, so no work is left running.
 * A reconnecting client sends `Last-Event-ID`, and the count goes on from there.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { App } from 'tsgi'
import { builder, enable, mount } from 'tsgi/builder'

const page: App = () => [
  200,
  ['Content-Type', 'text/html; charset=utf-8'],
  [
    '<!doctype html><title>tsgi SSE clock</title><h1 id="clock">…</h1><p id="count"></p>',
    '<script>const events = new EventSource("events");',
    'events.addEventListener("tick", (e) => {',
    ' document.getElementById("clock").textContent = e.data;',
    ' document.getElementById("count").textContent = "event " + e.lastEventId; });</script>',
  ],
]

/** One event: an id (so a reconnecting client resumes), a type, and the data. */
const event = (id: number, type: string, data: string): string =>
  `id: ${id}\nevent: ${type}\ndata: ${data}\n\n`

const clock: App = (env) => async (respond) => {
  const signal = env['tsgix.signal']
  const last = env.HTTP_LAST_EVENT_ID // HTTP_* keys are typed unknown: narrow them
  let id = typeof last === 'string' ? Number.parseInt(last, 10) || 0 : 0
  const writer = respond([200, ['Content-Type', 'text/event-stream', 'Cache-Control', 'no-cache']])
  try {
    await writer.write('retry: 2000\n\n') // how long a client waits before reconnecting
    while (!signal?.aborted) {
      id += 1
      await writer.write(event(id, 'tick', new Date().toISOString())) // resolves when the client took it
      await sleep(1000, undefined, signal ? { signal } : {}) // rejects at once when the signal aborts
    }
  } catch (err) {
    if (!signal?.aborted) throw err // a real failure; an abort only means the client is gone
  }
  await writer.close()
}

export const app = builder(enable('Deflater'), mount('/events', clock), mount('/', page))

export default app
