/**
 * A middleware stack under load: an access log (the combined format, each line built and
 * discarded), an ETag from the SHA-1 of the body, an X-Runtime header and a cookie session in
 * process memory, around a handler that counts the session's requests and answers
 * `Hello, World!`. tsgi's is its builder with the built-in middleware; h3's is the same written
 * as h3 middleware. Every request carries the session cookie, so each one reads the session,
 * changes it, stores it and sends the cookie back. Run as
 * `node --import tsx bench/stack-servers.ts <case>`; prints the port, then serves until killed.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { App } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { H3_SERVE, h3Port, startNamedCase } from './case.js'

const hello = 'Hello, World!'
/** Where the log lines go: nowhere, once built. */
const discard = (_line: string): void => {}

const counter: App = (env) => {
  const session = env['tsgix.session']!
  session.count = (Number(session.count) || 0) + 1
  return [200, ['Content-Type', 'text/plain'], [hello]]
}

const cases: Record<string, () => Promise<number>> = {
  async tsgi() {
    const app = builder(
      enable('AccessLog', { logger: discard }),
      enable('ETag'),
      enable('Runtime'),
      enable('Session'),
      counter,
    )
    return (await serve(app, { port: 0, host: '127.0.0.1' })).port
  },
  async h3() {
    const { H3, getCookie, getRequestIP, serve: serveH3, setCookie, toResponse } = await import('h3')
    const sessions = new Map<string, { readonly json: string; readonly expiresAt: number }>()
    const ttl = 86_400_000
    const app = new H3()
      // access log: the final response's status, and the body's length (from the value, as tsgi's takes it from an array body)
      .use(async (event, next) => {
        const start = new Date()
        const body = await next()
        const response = await toResponse(body, event)
        const length =
          typeof body === 'string' ? Buffer.byteLength(body) : response.headers.get('content-length')
        const headers = event.req.headers
        const version = event.req.runtime?.node?.req.httpVersion ?? '1.1'
        const target = `${event.url.pathname}${event.url.search}`
        discard(
          `${getRequestIP(event) ?? '-'} - - [${clfTime(start)}] "${logItem(event.req.method)} ${logItem(target)} HTTP/${version}" ` +
            `${response.status} ${length || '-'} "${logItem(headers.get('referer'))}" "${logItem(headers.get('user-agent'))}"\n`,
        )
        return response
      })
      // ETag: the hex SHA-1 of a 200's body
      .use(async (event, next) => {
        const body = await next()
        if (typeof body === 'string' && (event.res.status ?? 200) === 200 && !event.res.headers.has('etag')) {
          event.res.headers.set('etag', `"${createHash('sha1').update(body).digest('hex')}"`)
        }
        return body
      })
      // X-Runtime: seconds from here to the response, 6 decimals
      .use(async (event, next) => {
        const start = performance.now()
        const body = await next()
        event.res.headers.set('x-runtime', ((performance.now() - start) / 1000).toFixed(6))
        return body
      })
      // session: JSON text in a Map keyed by a random id from the cookie; stored (and the cookie sent) when changed
      .use(async (event, next) => {
        const id = getCookie(event, 'tsgi_session')
        const entry = id === undefined ? undefined : sessions.get(id)
        const loaded = entry !== undefined && entry.expiresAt > Date.now() ? entry.json : '{}'
        event.context.session = JSON.parse(loaded)
        const body = await next()
        const json = JSON.stringify(event.context.session)
        if (json !== loaded) {
          const sid = loaded === '{}' || id === undefined ? randomBytes(24).toString('base64url') : id
          sessions.set(sid, { json, expiresAt: Date.now() + ttl })
          setCookie(event, 'tsgi_session', sid, { path: '/', httpOnly: true, sameSite: 'lax' })
        }
        return body
      })
      .get('/', (event) => {
        const session = event.context.session as Record<string, unknown>
        session.count = (Number(session.count) || 0) + 1
        event.res.headers.set('content-type', 'text/plain')
        return hello
      })
    return h3Port(serveH3(app, H3_SERVE))
  },
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number) => String(n).padStart(2, '0')
let clfSecond = -1
let clfText = ''

/** `10/Oct/2000:13:55:36 -0700`, made once per second. */
function clfTime(date: Date): string {
  const second = Math.floor(date.getTime() / 1000)
  if (second === clfSecond) return clfText
  const offset = -date.getTimezoneOffset()
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`
  clfText = `${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())} ${zone}`
  clfSecond = second
  return clfText
}

const UNSAFE = /[^ !#-[\]-~]/g

/** A logged value: '-' when empty, quotes, backslashes, controls and non-ASCII escaped as `\xhh`. */
function logItem(value: string | null | undefined): string {
  if (!value) return '-'
  return value.replace(UNSAFE, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

await startNamedCase(cases)
