/**
 * Server-Sent Events: a clock that sends the time once a second with `sse()`, compressed by
 * Deflater (which flushes after every event).
 *
 * Run it: `tsgiup examples/sse.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/sse.ts`).
 * Open http://localhost:5000/ and watch the clock; `curl -N http://localhost:5000/events`
 * shows the raw stream.
 *
 * When the browser tab closes (or the server shuts down), `stream.signal` aborts, the pending
 * timer is cancelled and the loop ends, so no work is left running.
 * A reconnecting client sends `Last-Event-ID`, and the count goes on from there.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type App, sse } from 'tsgi'
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

const clock: App = (env) =>
  sse(env, async (stream) => {
    let id = Number.parseInt(stream.lastEventId ?? '', 10) || 0
    await stream.send({ retry: 2000 }) // how long a client waits before reconnecting
    while (!stream.signal.aborted) {
      id += 1
      // one event: an id (so a reconnecting client resumes), a type, and the data
      await stream.send({ id: String(id), event: 'tick', data: new Date().toISOString() })
      await sleep(1000, undefined, { signal: stream.signal }).catch(() => {}) // ends at once on an abort
    }
  })

export const app = builder(enable('Deflater'), mount('/events', clock), mount('/', page))

export default app
