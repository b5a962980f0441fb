/**
 * tsgiup serving apps as a user runs it: a `.ts` app file, the default app.ts, `-e` code,
 * several listeners (TCP and a unix socket), environments, the access log file, `-M`.
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:http2'
import { request } from 'node:https'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, killAll, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

const TS_APP = `
interface Env { PATH_INFO: string; 'tsgi.multiprocess': boolean }
const app = (env: Env): [number, string[], string[]] => [
  200,
  ['Content-Type', 'text/plain'],
  [\`hello \${env.PATH_INFO} from \${process.env.TSGI_ENV}/\${process.env.NODE_ENV}\`],
]
export default app
`
const LOCAL = ['-o', '127.0.0.1', '-p', '0']

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('tsgiup serving', () => {
  it('serves a .ts app file and prints one ready line with URL, server, env and pid', async () => {
    const cwd = await tempApp({ 'hello.ts': TS_APP })
    const t = tsgiup([...LOCAL, 'hello.ts'], { cwd })
    const url = await t.url()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(await get(url, '/there')).toEqual({
      status: 200,
      body: 'hello /there from development/development',
    })
    const ready = t.lines.filter((l) => l.startsWith('tsgiup: listening'))
    expect(ready).toEqual([`tsgiup: listening on ${url} (server node, env development, pid ${t.child.pid})`])
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
  })

  it('finds app.ts in the working directory when no file is given, with -a as well', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP, 'other.ts': 'export default () => [200, [], ["other"]]' })
    const t = tsgiup(LOCAL, { cwd })
    expect((await get(await t.url(), '/x')).body).toBe('hello /x from development/development')
    const a = tsgiup([...LOCAL, '--app', 'other.ts'], { cwd })
    expect((await get(await a.url())).body).toBe('other')
  })

  it('falls back to app.js, an .mjs-style module with a promise of an app', async () => {
    const cwd = await tempApp({
      'package.json': '{"type":"module"}',
      'app.js': 'export default Promise.resolve(() => [200, [], ["from js"]])',
    })
    const t = tsgiup(LOCAL, { cwd })
    expect(await get(await t.url())).toEqual({ status: 200, body: 'from js' })
  })

  it('development wraps the app in AccessLog (a line on stderr); production does not', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    const dev = tsgiup(LOCAL, { cwd })
    await get(await dev.url(), '/logged')
    expect(await dev.waitForLine(/"GET \/logged HTTP\/1\.1" 200 /)).toMatch(/^127\.0\.0\.1 - - \[/)

    const prod = tsgiup([...LOCAL, '-E', 'production'], { cwd })
    const url = await prod.url()
    expect((await get(url, '/quiet')).body).toBe('hello /quiet from production/production')
    prod.child.kill('SIGTERM')
    expect(await prod.exited).toBe(0)
    expect(prod.lines.some((l) => l.includes('/quiet'))).toBe(false)
  })

  it('development answers an app error with StackTrace and a bad response with Lint', async () => {
    const cwd = await tempApp({
      'app.ts': `export default (env: { PATH_INFO: string }) => {
        if (env.PATH_INFO === '/throw') throw new Error('kaboom')
        return [200, ['Bad Header', 'x'], ['never']]
      }`,
    })
    const t = tsgiup(LOCAL, { cwd })
    const url = await t.url()
    const thrown = await get(url, '/throw')
    expect(thrown.status).toBe(500)
    expect(thrown.body).toContain('kaboom')
    const linted = await get(url, '/bad')
    expect(linted.status).toBe(500)
    expect(linted.body).toMatch(/Lint/)
  })

  it('takes the environment from TSGI_ENV when -E is absent', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    const t = tsgiup(LOCAL, { cwd, env: { TSGI_ENV: 'test' } })
    const url = await t.url()
    expect(t.lines[0]).toContain('env test')
    expect((await get(url)).body).toBe('hello / from test/test')
  })

  it.each([
    ['an expression', '(env) => [200, [], ["eval " + env.PATH_INFO]]'],
    [
      'a module with a default export',
      'const body = "eval"; export default (env) => [200, [], [body + " " + env.PATH_INFO]]',
    ],
  ])('-e serves an app from inline code: %s', async (_name, code) => {
    const cwd = await tempApp({})
    const t = tsgiup([...LOCAL, '-E', 'test', '-e', code], { cwd })
    expect(await get(await t.url(), '/inline')).toEqual({ status: 200, body: 'eval /inline' })
  })

  it('-e code imports files relative to the working directory', async () => {
    const cwd = await tempApp({
      'package.json': '{"type":"module"}',
      'greeting.ts': 'export const greeting: string = "hi"',
    })
    const code = 'import { greeting } from "./greeting.ts"; export default () => [200, [], [greeting]]'
    const t = tsgiup([...LOCAL, '-e', code], { cwd })
    expect((await get(await t.url())).body).toBe('hi')
  })

  it('-l listens on several addresses, a unix socket among them', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    const t = tsgiup(['-E', 'test', '-l', 'app.sock', '-l', '127.0.0.1:0'], { cwd })
    const line = await t.waitForLine(/^tsgiup: listening on /)
    const [unix, tcp] = /listening on (\S+), (\S+) /.exec(line)?.slice(1) ?? []
    expect(unix).toBe(`http+unix://${encodeURIComponent(join(cwd, 'app.sock'))}/`)
    expect((await get(unix ?? '', '/unix')).body).toBe('hello /unix from test/test')
    expect((await get(tcp ?? '', '/tcp')).body).toBe('hello /tcp from test/test')
  })

  it('--access-log appends the log to a file, in production too', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    const t = tsgiup([...LOCAL, '-E', 'production', '--access-log', 'access.log'], { cwd })
    await get(await t.url(), '/filed')
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
    expect(await readFile(join(cwd, 'access.log'), 'utf8')).toMatch(/"GET \/filed HTTP\/1\.1" 200 \d+/)
    expect(t.lines.some((l) => l.includes('/filed'))).toBe(false)
  })

  it.skipIf(!hasOpenssl())('--tls-cert and --tls-key serve HTTPS', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { cwd, stdio: 'ignore' },
    )
    const t = tsgiup([...LOCAL, '-E', 'test', '--tls-cert', 'cert.pem', '--tls-key', 'key.pem'], { cwd })
    const url = await t.url()
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    const body = await new Promise<string>((done, fail) => {
      request(`${url}secure`, { rejectUnauthorized: false, agent: false }, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => done(text))
      })
        .on('error', fail)
        .end()
    })
    expect(body).toBe('hello /secure from test/test')
  })

  /** GET `path` over HTTP/2 from the server at `url`; the :status and body. */
  function h2get(url: string, path: string): Promise<{ status: unknown; body: string }> {
    return new Promise((done, fail) => {
      const session = connect(url, { rejectUnauthorized: false })
      session.on('error', fail)
      const req = session.request({ ':path': path })
      let status: unknown
      let body = ''
      req.on('response', (headers) => {
        status = headers[':status']
      })
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () => {
        session.close()
        done({ status, body })
      })
      req.on('error', fail)
      req.end()
    })
  }

  it('-s http2 serves cleartext h2c (prior knowledge) without TLS files', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    const t = tsgiup([...LOCAL, '-E', 'test', '-s', 'http2'], { cwd })
    const url = await t.url()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(await h2get(url, '/two')).toEqual({ status: 200, body: 'hello /two from test/test' })
    expect(t.lines.some((l) => l.includes('(server http2,'))).toBe(true)
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
  })

  it.skipIf(!hasOpenssl())('-s http2 with --tls-cert and --tls-key serves h2 over TLS', async () => {
    const cwd = await tempApp({ 'app.ts': TS_APP })
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem'].concat([
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ]),
      { cwd, stdio: 'ignore' },
    )
    const t = tsgiup(
      [...LOCAL, '-E', 'test', '-s', 'http2', '--tls-cert', 'cert.pem', '--tls-key', 'key.pem'],
      {
        cwd,
      },
    )
    const url = await t.url()
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(await h2get(url, '/tls')).toEqual({ status: 200, body: 'hello /tls from test/test' })
  })

  it('-M imports modules before the app', async () => {
    const cwd = await tempApp({
      'setup.ts': 'process.env.GREETING = "preloaded"',
      'app.ts': 'export default () => [200, [], [String(process.env.GREETING)]]',
    })
    const t = tsgiup([...LOCAL, '-M', './setup.ts'], { cwd })
    expect((await get(await t.url())).body).toBe('preloaded')
  })

  it('--help and --version print to stdout and exit 0', async () => {
    const cwd = await tempApp({})
    const help = tsgiup(['--help'], { cwd })
    expect(await help.exited).toBe(0)
    for (const option of ['--app', '--listen', '--workers', '--reload-paths', '--shutdown-timeout']) {
      expect(help.stdout()).toContain(option)
    }
    const version = tsgiup(['-v'], { cwd })
    expect(await version.exited).toBe(0)
    expect(version.stdout()).toMatch(/^tsgiup \d+\.\d+\.\d+ \(node v\d+/)
  })
})
