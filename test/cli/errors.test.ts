/**
 * Mistakes a user makes get one clear `tsgiup: …` line on stderr and a non-zero exit code,
 * never an internal stack: 2 for the command line, 1 for the app and the address.
 */
import { createServer, type Server } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { killAll, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

let busy: Server
let busyPort = 0
let cwd = ''

beforeAll(async () => {
  busy = createServer()
  await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done))
  busyPort = (busy.address() as { port: number }).port
  cwd = await tempApp({
    'app.ts': 'export default () => [200, [], ["ok"]]',
    'throws.ts': 'const x: number = 1\nthrow new Error("database unreachable (" + x + ")")',
    'number.ts': 'export default 42',
    'named.ts': 'export const app = () => [200, [], ["named"]]',
    'syntax.ts': 'export default (env =>',
    'rejects.ts': 'export default Promise.reject(new Error("config missing"))',
    'imports.ts': 'import "./nowhere.ts"\nexport default () => [200, [], []]',
  })
})
afterAll(() => new Promise<void>((done) => busy.close(() => done())))

describe('tsgiup user errors', () => {
  it.each([
    ['a missing app file', ['missing.ts'], 1, /^tsgiup: app file not found: missing\.ts$/],
    ['a directory as app file', ['.'], 1, /^tsgiup: \. is a directory, not an app file$/],
    [
      'a file that throws on load',
      ['throws.ts'],
      1,
      /^tsgiup: throws\.ts failed to load: database unreachable \(1\)$/,
    ],
    [
      'a file with a syntax error',
      ['syntax.ts'],
      1,
      /^tsgiup: syntax\.ts failed to load: .*syntax\.ts:1:\d+/,
    ],
    [
      'a default export that rejects',
      ['rejects.ts'],
      1,
      /^tsgiup: rejects\.ts failed to load: config missing$/,
    ],
    [
      'a file importing a missing module',
      ['imports.ts'],
      1,
      /^tsgiup: imports\.ts failed to load: .*nowhere\.ts/,
    ],
    [
      'a default export that is not an app',
      ['number.ts'],
      1,
      /^tsgiup: the default export of number\.ts is not an app \(a function\): it is a number \(42\)$/,
    ],
    [
      'no default export',
      ['named.ts'],
      1,
      /^tsgiup: named\.ts has no default export \(an app\); it exports 'app': add 'export default app'$/,
    ],
    [
      '-e code that is not an app',
      ['-e', '"text"'],
      1,
      /^tsgiup: the default export of -e code is not an app/,
    ],
    ['an unknown option', ['--bogus', 'app.ts'], 2, /^tsgiup: unknown option --bogus \(see tsgiup --help\)$/],
    ['an unknown short option', ['-x'], 2, /^tsgiup: unknown option -x /],
    ['an option without its value', ['app.ts', '--port'], 2, /^tsgiup: option --port needs a value /],
    [
      'a bad port',
      ['-p', '99999'],
      2,
      /^tsgiup: option -p\/--port must be a whole number from 0 to 65535, got '99999'/,
    ],
    [
      'an unknown server',
      ['-s', 'gazelle'],
      2,
      /^tsgiup: unknown server 'gazelle' for -s\/--server \(known: node, http2, fastcgi, cgi\)/,
    ],
    ['zero workers', ['--workers', '0'], 2, /^tsgiup: option --workers must be a whole number from 1/],
    [
      'a bad timeout',
      ['--shutdown-timeout', 'soon'],
      2,
      /^tsgiup: option --shutdown-timeout must be a duration/,
    ],
    [
      'a TLS key without certificate',
      ['--tls-key', 'k.pem'],
      2,
      /^tsgiup: --tls-cert and --tls-key go together/,
    ],
    [
      'a missing TLS file',
      ['--tls-key', 'k.pem', '--tls-cert', 'c.pem'],
      1,
      /^tsgiup: cannot read --tls-cert c\.pem: ENOENT$/,
    ],
    ['two app files', ['app.ts', 'named.ts'], 2, /^tsgiup: one app file at most/],
    [
      '-e with an app file',
      ['-e', '() => []', 'app.ts'],
      2,
      /^tsgiup: give either -e\/--eval code or an app file/,
    ],
  ])('%s', async (_name, args, code, message) => {
    // A later -p in args overrides the -p 0 in front.
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', ...args], { cwd })
    expect(await t.exited).toBe(code)
    expect(t.lines).toHaveLength(1)
    expect(t.lines[0]).toMatch(message)
  })

  it('a port already in use', async () => {
    const t = tsgiup(['-o', '127.0.0.1', '-p', String(busyPort), 'app.ts'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual([`tsgiup: cannot listen on 127.0.0.1:${busyPort}: address already in use`])
  })

  it('no app file given and none in the directory', async () => {
    const empty = await tempApp({})
    const t = tsgiup(['-p', '0'], { cwd: empty })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual([`tsgiup: no app file given, and no app.ts or app.js in ${empty}`])
  })

  it('a port in use with --workers: the error is shown once and the cluster exits 1', async () => {
    const t = tsgiup(['--workers', '2', '-o', '127.0.0.1', '-p', String(busyPort), 'app.ts'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual([`tsgiup: cannot listen on 127.0.0.1:${busyPort}: address already in use`])
  })

  it('a file that throws with --reload: the supervisor exits with the error', async () => {
    const t = tsgiup(['-r', '-o', '127.0.0.1', '-p', '0', 'throws.ts'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual(['tsgiup: throws.ts failed to load: database unreachable (1)'])
  })
})
