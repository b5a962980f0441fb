/**
 * Upgrade requests on the node server (`Connection: upgrade`): node hands them over with the
 * raw socket, outside its request handling. Each becomes an ordinary exchange on a response
 * made for that socket, which closes after it: the app gets `tsgix.io` and `tsgix.io.head` (spec
 * 3.5), and on a valid WebSocket handshake `tsgix.websocket`, whose `accept()` answers `101`
 * and hands the socket to the WebSocket session. Upgrade exchanges have no request timeout:
 * the app may take the connection over.
 */
import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { plainTarget } from './node-env.js'
import { admitRequest, type ServerLimits } from './node-limits.js'
import { handleRequest, type ServerContext } from './node-transport.js'
import { Handshake, Http1Switch, http1Handshake } from './websocket.js'

function ignore(): void {}

/** Runs an upgrade request (`req` with its socket and the bytes read past its head) through the pipeline. */
export function handleUpgrade(
  ctx: ServerContext,
  limits: ServerLimits,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', ignore)
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket as Socket)
  // node's own ending of a response (and of its connection) is not wired for an upgrade
  res.once('finish', () => socket.end())
  if (!admitRequest(limits, req, res)) return
  handleRequest(ctx, req, res, plainTarget(req.url ?? '/', req.method ?? ''), (env, ex) => {
    env['tsgix.io'] = socket
    env['tsgix.io.head'] = head
    ex.mayTakeOver = true
    const protocols = http1Handshake(env)
    if (protocols === undefined) return
    const handshake = new Handshake(
      protocols,
      env,
      new Http1Switch(req, socket, head, () => res.detachSocket(socket as Socket)),
    )
    env['tsgix.websocket'] = handshake
    ex.handshake = handshake
  })
}
