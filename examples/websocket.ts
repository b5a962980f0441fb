/**
 * WebSocket: a chat room. Everyone who opens the page joins; a message is sent to everyone
 * in the room. The handshake goes through Session (a name is kept per browser); under tsgiup in
 * development its AccessLog logs each connection when it is accepted (101).
 *
 * Run it: `tsgiup examples/websocket.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/websocket.ts`).
 * Open http://localhost:5000/ in two tabs and type.
 */
import type { App, WebSocketConnection } from 'tsgi'
import { builder, enable, mount } from 'tsgi/builder'

const page: App = () => [
  200,
  ['Content-Type', 'text/html; charset=utf-8'],
  [
    '<!doctype html><title>tsgi chat</title><ul id="log"></ul>',
    '<form id="f"><input id="text" autocomplete="off" autofocus><button>Send</button></form>',
    '<script>const ws = new WebSocket(new URL("chat", location.href.replace(/^http/, "ws")), "chat");',
    'const log = (t) => { const li = document.createElement("li"); li.textContent = t;',
    ' document.getElementById("log").append(li) };',
    'ws.onmessage = (e) => log(e.data); ws.onclose = (e) => log("closed (" + e.code + ")");',
    'document.getElementById("f").onsubmit = (e) => { e.preventDefault();',
    ' const input = document.getElementById("text"); ws.send(input.value); input.value = "" };</script>',
  ],
]

const room = new Set<WebSocketConnection>()

/** Sends `text` to everyone in the room; a slow reader holds up only its own send. */
function broadcast(text: string): void {
  for (const peer of room) peer.send(text).catch(() => {}) // a peer that left is leaving the room
}

const chat: App = (env) => {
  const ws = env['tsgix.websocket']
  if (!ws) return [426, ['Upgrade', 'websocket', 'Content-Type', 'text/plain'], ['a WebSocket endpoint\n']]
  const session = env['tsgix.session']!
  // changes to the session are saved with the handshake's answer: make them before accept()
  session.name ??= `guest-${Math.floor(Math.random() * 1000)}`
  const name = String(session.name)
  return ws.accept(
    async (socket) => {
      room.add(socket)
      broadcast(`${name} joined (${room.size} here)`)
      try {
        for await (const message of socket) {
          if (typeof message === 'string' && message.length <= 1000) broadcast(`${name}: ${message}`)
        }
      } finally {
        room.delete(socket)
        broadcast(`${name} left`)
      }
    },
    ws.protocols.includes('chat') ? { protocol: 'chat', maxPayload: 4096 } : { maxPayload: 4096 },
  )
}

export const app = builder(enable('Session'), mount('/chat', chat), mount('/', page))

export default app
