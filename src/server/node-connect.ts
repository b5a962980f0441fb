/**
 * CONNECT on the node server: the app gets the raw socket in `tsgix.io` and the bytes read past
 * the request head in `tsgix.io.head`. A 2xx answer writes `200 Connection Established` and
 * leaves the socket to the app; any other answer is written with `Connection: close` and the
 * socket ended. `tsgix.signal` aborts only if the client leaves before the answer.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { discardBody, isPromiseLike, toBytes } from '../body.js'
import { validateHead } from '../headers.js'
import { statusText } from '../status.js'
import type { Chunk, Env, HeaderList, Responder } from '../types.js'
import { buildEnv, plainTarget } from './node-env.js'
import type { ServerContext } from './node-transport.js'
import { describeError, rejected, runCleanup } from './pipeline.js'
import { measureArray } from './response-check.js'

const SKIP = new Set(['content-length', 'transfer-encoding', 'connection'])

function ignore(): void {}

function noHints(): void {}

/** Hands a CONNECT request to `ctx.app`. */
export function handleConnect(ctx: ServerContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', ignore)
  const controller = new AbortController()
  const env = buildEnv(req, ctx.env, plainTarget(req.url ?? '', 'CONNECT'), controller, noHints) as Env
  env['tsgix.io'] = socket
  env['tsgix.io.head'] = head
  const report = (message: string) => {
    try {
      ctx.env.errors.write(`tsgi: CONNECT ${env.REQUEST_URI}: ${message}\n`)
    } catch {
      // nowhere left to report
    }
  }
  let answered = false
  ctx.tunnels.add(socket)
  socket.once('close', () => {
    ctx.tunnels.delete(socket)
    if (!answered) controller.abort('client-disconnected')
    runCleanup(ctx, env, report)
  })

  const answer = (res: unknown): void => {
    if (answered || socket.destroyed) {
      if (Array.isArray(res)) void discardBody(res[2])
      return
    }
    answered = true
    const [status, headers, body] = Array.isArray(res) ? res : []
    const problem = Array.isArray(res) ? validateHead(status, headers) : 'the app returned no response triple'
    if (problem !== undefined) {
      report(problem)
      void discardBody(body)
      writeRaw(socket, 500, [], ['Internal Server Error'])
      return
    }
    if ((status as number) >= 200 && (status as number) < 300) {
      void discardBody(body)
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      return
    }
    const chunks = Array.isArray(body) && typeof measureArray(body) === 'number' ? (body as Chunk[]) : []
    if (chunks !== body) void discardBody(body)
    writeRaw(socket, status as number, headers as HeaderList, chunks)
  }
  const fail = (err: unknown): void => {
    report(describeError(err))
    answer([500, [], ['Internal Server Error']])
  }
  const respond = ((r: unknown) => {
    if (Array.isArray(r) && r.length === 2) {
      answer([r[0], r[1], []])
      return {
        write: () => rejected(new Error('tsgi: CONNECT answers take no streamed body')),
        close: () => rejected(new Error('tsgi: CONNECT answers take no streamed body')),
      }
    }
    answer(r)
    return undefined
  }) as Responder

  Promise.resolve()
    .then(() => ctx.app(env))
    .then((result) => {
      if (typeof result !== 'function') return answer(result)
      const ran = result(respond)
      if (isPromiseLike(ran)) return Promise.resolve(ran).then(ignore)
    })
    .then(undefined, fail)
}

function writeRaw(socket: Duplex, status: number, headers: HeaderList, body: Chunk[]): void {
  const bytes = Buffer.concat(body.map(toBytes))
  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\n`
  for (let i = 0; i < headers.length; i += 2) {
    if (!SKIP.has(headers[i]!.toLowerCase())) head += `${headers[i]}: ${headers[i + 1]}\r\n`
  }
  head += `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), bytes]))
}
