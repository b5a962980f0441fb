/**
 * `tsgiup -s fastcgi`: the real bin serving an app as a FastCGI responder on a unix socket, on
 * a TCP port, and on the listening socket spawn-fcgi hands over as fd 0; the options it refuses.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { FcgiClient, paramsFor, parseCgi } from '../server/fastcgi-client.js'
import { findBinary, skipWithout } from '../server/tls-fixture.js'
import { bin, killAll, root, tempApp, tsgiup } from './spawn.js'

const clients: FcgiClient[] = []
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
  for (const child of children.splice(0)) child.kill('SIGKILL')
  killAll()
})

const APP = `
interface Env { PATH_INFO: string; SCRIPT_NAME: string; 'tsgi.multiprocess': boolean }
export default (env: Env): [number, string[], string[]] => [
  200,
  ['Content-Type', 'text/plain'],
  [\`fastcgi \${env.SCRIPT_NAME}|\${env.PATH_INFO} pid \${process.pid} mp \${env['tsgi.multiprocess']}\`],
]
`

async function ask(where: string | number, path: string): Promise<string> {
  const c = await FcgiClient.open(where)
  clients.push(c)
  const reply = await c.request(1, paramsFor('GET', path))
  const res = parseCgi(reply.stdout)
  expect(res.status).toBe(200)
  return res.body.toString()
}

describe('tsgiup -s fastcgi', () => {
  it('listens on a unix socket (-l path), says so, serves, and stops on SIGTERM', async () => {
    const cwd = await tempApp({ 'app.ts': APP })
    const sock = join(cwd, 'app.sock')
    const t = tsgiup(['-s', 'fastcgi', '-E', 'production', '-l', sock, 'app.ts'], { cwd })
    const url = await t.url()
    expect(url).toBe(`fastcgi+unix://${encodeURIComponent(sock)}/`)
    expect(t.lines).toContain(
      `tsgiup: listening on ${url} (server fastcgi, env production, pid ${t.child.pid})`,
    )
    expect(await ask(sock, '/there')).toBe(`fastcgi |/there pid ${t.child.pid} mp false`)
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
  })

  it.each([
    ['-l 127.0.0.1:0', ['-l', '127.0.0.1:0']],
    ['-o 127.0.0.1 -p 0', ['-o', '127.0.0.1', '-p', '0']],
  ])('listens on a TCP port (%s)', async (_label, args) => {
    const cwd = await tempApp({ 'app.ts': APP })
    const t = tsgiup(['-s', 'fastcgi', ...args], { cwd })
    const url = await t.url()
    expect(url).toMatch(/^fastcgi:\/\/127\.0\.0\.1:\d+\/$/)
    expect(await ask(Number(new URL(url).port), '/tcp')).toMatch(/^fastcgi \|\/tcp /)
    // development: AccessLog in front of the app, its line on stderr
    expect(await t.waitForLine(/"GET \/tcp HTTP\/1\.1" 200 /)).toMatch(/^127\.0\.0\.1 - - \[/)
  })

  it('with --workers, each worker serves the same socket, tsgi.multiprocess true', async () => {
    const cwd = await tempApp({ 'app.ts': APP })
    const sock = join(cwd, 'app.sock')
    const t = tsgiup(['-s', 'fastcgi', '-E', 'production', '-w', '2', '-l', sock], { cwd })
    expect(await t.url()).toBe(`fastcgi+unix://${encodeURIComponent(sock)}/`)
    expect(await ask(sock, '/w')).toMatch(/^fastcgi \|\/w pid \d+ mp true$/)
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
  })

  it.each([[['--tls-cert', 'c.pem', '--tls-key', 'k.pem']], [['--keep-alive-timeout', '5s']]])(
    'refuses %j: the web server in front owns the client connections',
    async (args) => {
      const cwd = await tempApp({ 'app.ts': APP })
      const t = tsgiup(['-s', 'fastcgi', ...args], { cwd })
      expect(await t.exited).toBe(2)
      expect(t.lines).toEqual([
        'tsgiup: -s fastcgi takes no --tls-cert/--tls-key or --keep-alive-timeout: the web server in front owns the client connections (see tsgiup --help)',
      ])
    },
  )
})

const spawnFcgi = findBinary('spawn-fcgi', ['-v'])
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href

/** `spawn-fcgi -n -s <sock> -- tsgiup ...args`: spawn-fcgi binds the socket and execs tsgiup with it as fd 0. */
function spawned(cwd: string, sock: string, args: readonly string[]) {
  const child = spawn(spawnFcgi!, ['-n', '-s', sock, '--', process.execPath, '--import', tsx, bin, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.push(child)
  const lines: string[] = []
  const rl = createInterface({ input: child.stderr! })
  const ready = new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line)
      if (line.startsWith('tsgiup: listening on ')) resolve(line)
    })
    rl.once('close', () => reject(new Error(`no ready line:\n${lines.join('\n')}`)))
  })
  return { child, lines, ready }
}

describe.skipIf(
  skipWithout(
    'tsgiup -s fastcgi under spawn-fcgi',
    spawnFcgi === undefined ? 'spawn-fcgi not found (Debian package spawn-fcgi)' : undefined,
  ),
)('tsgiup -s fastcgi started by a spawner', () => {
  it('listens on fd 0 when stdin is the listening socket and no -l/-p is given', async () => {
    const cwd = await tempApp({ 'app.ts': APP })
    const sock = join(cwd, 'spawned.sock')
    const s = spawned(cwd, sock, ['-s', 'fastcgi', '-E', 'production', 'app.ts'])
    expect(await s.ready).toBe(
      `tsgiup: listening on fastcgi+fd://0/ (server fastcgi, env production, pid ${s.child.pid})`,
    )
    expect(await ask(sock, '/spawned')).toBe(`fastcgi |/spawned pid ${s.child.pid} mp false`)
    expect(await ask(sock, '/again')).toMatch(/^fastcgi \|\/again /)
    const exited = once(s.child, 'exit')
    s.child.kill('SIGTERM')
    expect((await exited)[0]).toBe(0)
  })

  it('with --workers 2, the workers share fd 0', async () => {
    const cwd = await tempApp({ 'app.ts': APP })
    const sock = join(cwd, 'spawned.sock')
    const s = spawned(cwd, sock, ['-s', 'fastcgi', '-E', 'production', '-w', '2', 'app.ts'])
    expect(await s.ready).toMatch(
      /^tsgiup: listening on fastcgi\+fd:\/\/0\/ \(server fastcgi, env production, workers 2, pid \d+\)$/,
    )
    expect(await ask(sock, '/w')).toMatch(/^fastcgi \|\/w pid \d+ mp true$/)
    const exited = once(s.child, 'exit')
    s.child.kill('SIGTERM')
    expect((await exited)[0]).toBe(0)
  })

  it('an explicit -l wins over fd 0', async () => {
    const cwd = await tempApp({ 'app.ts': APP })
    const sock = join(cwd, 'spawned.sock')
    const own = join(cwd, 'own.sock')
    const s = spawned(cwd, sock, ['-s', 'fastcgi', '-E', 'production', '-l', own, 'app.ts'])
    expect(await s.ready).toMatch(new RegExp(`listening on fastcgi\\+unix://${encodeURIComponent(own)}/ `))
    expect(await ask(own, '/own')).toMatch(/^fastcgi \|\/own /)
  })
})
