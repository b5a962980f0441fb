/**
 * The CGI server (`tsgi/server/cgi`): runCgi in process with the environment, stdin and stdout
 * given as streams (the CGI response as bytes: framing, the Status line, headers, bodyless
 * responses, streaming, backpressure, the request body, a front end that goes away, failures,
 * options); the fixture script run as a process (exit code, SIGTERM); `tsgiup -s cgi`; and the
 * same script behind real front ends: lighttpd mod_cgi, Apache mod_cgid (event MPM) and
 * Apache mod_cgi (prefork MPM), with the configurations docs/servers.md shows.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builder, lifespan } from '../../builder/index.js'
import { run } from '../../src/cli/runner.js'
import { HttpError } from '../../src/http-error.js'
import { type CgiOptions, runCgi } from '../../src/server/cgi.js'
import type { CgiVariables } from '../../src/server/cgi-env.js'
import { errorLog } from '../../src/testing/harness.js'
import type { App, Env } from '../../src/types.js'
import { type FrontEnd, skipApache, startApache } from './apache-fixture.js'
import { type BuiltPackage, builtPackage, type Rendezvous, startRendezvous } from './cgi-helpers.js'
import { skipLighttpd, startLighttpd } from './lighttpd-fixture.js'
import { deferred } from './node-helpers.js'

/** A GET of `/` as a front end describes it; `vars` adds or replaces variables. */
function cgiVars(vars: CgiVariables = {}): CgiVariables {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '/app.cgi',
    PATH_INFO: '/',
    REQUEST_URI: '/app.cgi/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '8080',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    ...vars,
  }
}

/** A CGI response parsed: the Status line, the fields, the body (chunked framing decoded). */
interface CgiResponse {
  readonly status: number
  readonly reason: string
  readonly fields: [string, string][]
  readonly body: Buffer
  /** The body was chunk-framed by the script. */
  readonly chunked: boolean
  /** A chunked body ended with its last chunk. */
  readonly terminated: boolean
  field(name: string): string | undefined
}

function parseCgi(raw: Buffer): CgiResponse {
  const split = raw.indexOf('\r\n\r\n')
  if (split < 0) throw new Error(`no end of the head in ${JSON.stringify(raw.toString('latin1'))}`)
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n')
  const m = /^Status: (\d{3}) (.*)$/.exec(statusLine)
  if (!m) throw new Error(`the head does not start with a Status line: ${statusLine}`)
  const fields = lines.map((line): [string, string] => {
    const colon = line.indexOf(': ')
    return [line.slice(0, colon), line.slice(colon + 2)]
  })
  const field = (name: string) => fields.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]
  let body = raw.subarray(split + 4)
  const chunked = field('transfer-encoding') === 'chunked'
  let terminated = false
  if (chunked) {
    const parts: Buffer[] = []
    let at = 0
    for (;;) {
      const eol = body.indexOf('\r\n', at)
      if (eol < 0) break
      const size = Number.parseInt(body.subarray(at, eol).toString(), 16)
      if (size === 0) {
        terminated = body.subarray(eol, eol + 4).toString() === '\r\n\r\n'
        break
      }
      parts.push(body.subarray(eol + 2, eol + 2 + size))
      at = eol + 2 + size + 2
    }
    body = Buffer.concat(parts)
  }
  return { status: Number(m[1]), reason: m[2] ?? '', fields, body, chunked, terminated, field }
}

/** A stdout that keeps what is written, optionally telling each chunk to `onChunk`. */
function stdout(onChunk?: (chunk: Buffer) => void): { output: PassThrough; bytes(): Buffer } {
  const output = new PassThrough()
  const parts: Buffer[] = []
  output.on('data', (chunk: Buffer) => {
    parts.push(chunk)
    onChunk?.(chunk)
  })
  return { output, bytes: () => Buffer.concat(parts) }
}

/** Runs `app` on one request through runCgi; gives the response and the error output. */
async function cgi(
  app: App,
  vars: CgiVariables = {},
  options: CgiOptions = {},
): Promise<{ res: CgiResponse; raw: Buffer; errors: string }> {
  const log = errorLog()
  const { output, bytes } = stdout()
  await runCgi(app, {
    env: cgiVars(vars),
    input: Readable.from([]),
    output,
    errors: log.stream,
    sigterm: false,
    ...options,
  })
  return { res: parseCgi(bytes()), raw: bytes(), errors: log.text() }
}

const text = (body: string, status = 200, headers: string[] = []): [number, string[], string[]] => [
  status,
  ['Content-Type', 'text/plain', ...headers],
  [body],
]

describe('runCgi', () => {
  it('writes the Status line, the header fields, the length and the body, and resolves', async () => {
    const { raw } = await cgi(() => text('hello'))
    expect(raw.toString()).toBe(
      'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    )
  })

  it.each([
    [404, undefined, 'Not Found'],
    [299, undefined, 'Success'],
    [200, 'Fine Thanks', 'Fine Thanks'],
    [418, 'caf\u00e9', 'caf\u00e9'],
  ])('status %i with reason phrase %j gives Status: %i %s', async (status, phrase, expected) => {
    const { res, raw } = await cgi((env) => {
      if (phrase !== undefined) env['tsgix.reason_phrase'] = phrase
      return text('x', status)
    })
    expect([res.status, res.reason]).toEqual([status, expected])
    if (phrase === 'caf\u00e9') expect(raw.includes(Buffer.from('caf\xe9', 'latin1'))).toBe(true)
  })

  it('keeps the order and repeats of fields; obs-text goes out as single octets', async () => {
    const { res, raw } = await cgi(() => [
      200,
      ['X-A', '1', 'Set-Cookie', 'a=1', 'X-B', '2', 'Set-Cookie', 'b=2', 'X-Obs', 'caf\u00e9'],
      ['ok'],
    ])
    expect(res.fields).toEqual([
      ['X-A', '1'],
      ['Set-Cookie', 'a=1'],
      ['X-B', '2'],
      ['Set-Cookie', 'b=2'],
      ['X-Obs', 'caf\u00e9'],
      ['Content-Length', '2'],
    ])
    expect(raw.includes(Buffer.from('X-Obs: caf\xe9\r\n', 'latin1'))).toBe(true)
  })

  it('drops the framing and connection fields the front end owns; keeps a declared length', async () => {
    const { res } = await cgi(() => [
      200,
      ['Content-Type', 'text/plain', 'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Content-Length', '2'],
      ['ok'],
    ])
    expect(res.fields).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '2'],
    ])
    const chunked = await cgi(() => [200, ['Transfer-Encoding', 'chunked', 'Upgrade', 'x'], ['chunk', 'ed']])
    expect(chunked.res.fields).toEqual([])
    expect(chunked.res.body.toString()).toBe('chunked')
  })

  it('refuses a Status field of the app: 500, the field named on tsgi.errors', async () => {
    const { res, errors } = await cgi(() => text('never sent', 200, ['Status', '302 Found']))
    expect(res.status).toBe(500)
    expect(res.body.toString()).toBe('Internal Server Error')
    expect(res.field('status')).toBeUndefined()
    expect(errors).toMatch(/invalid header "Status"/)
  })

  it.each<[string, string, App, string | undefined]>([
    ['HEAD with an array body', 'HEAD', () => text('hello'), '5'],
    ['HEAD with a streamed body', 'HEAD', () => [200, [], (async function* () {})()], undefined],
    ['204', 'GET', () => [204, [], ['ignored']], undefined],
    ['304', 'GET', () => [304, ['ETag', '"x"'], ['ignored']], undefined],
  ])('%s: no body', async (_, method, app, length) => {
    const { res, raw } = await cgi(app, { REQUEST_METHOD: method, SERVER_SOFTWARE: 'lighttpd/1.4.69' })
    expect(raw.toString().endsWith('\r\n\r\n')).toBe(true)
    expect(res.body.length).toBe(0)
    expect(res.field('content-length')).toBe(length)
    expect(res.chunked).toBe(false)
  })

  it('streams: a writer chunk reaches stdout before the app writes the next one', async () => {
    const proceed = deferred()
    const firstOut = deferred()
    const { output, bytes } = stdout((chunk) => {
      if (chunk.includes('first')) firstOut.resolve()
    })
    const done = runCgi(
      () => async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write('first')
        await proceed.promise
        await writer.write('second')
        await writer.close()
      },
      { env: cgiVars(), input: Readable.from([]), output, sigterm: false },
    )
    await firstOut.promise
    expect(bytes().toString()).not.toMatch(/second/)
    proceed.resolve()
    await done
    expect(parseCgi(bytes()).body.toString()).toBe('firstsecond')
  })

  it('writes follow the backpressure of stdout', async () => {
    let written = 0
    let consumed = 0
    const pull = deferred()
    // a stdout that takes 64 KiB, then holds every write until the test lets it go
    const output = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        consumed += chunk.length
        if (consumed < 256 * 1024) callback()
        else void pull.promise.then(() => callback())
      },
    })
    const stalled = deferred()
    const done = runCgi(
      () => async (respond) => {
        const writer = respond([200, []])
        const chunk = new Uint8Array(64 * 1024)
        for (let i = 0; i < 32; i++) {
          const write = writer.write(chunk)
          let settled = false
          void write.then(() => {
            settled = true
          })
          await new Promise((resolve) => setImmediate(resolve))
          if (!settled) stalled.resolve()
          await write
          written++
        }
        await writer.close()
      },
      { env: cgiVars(), input: Readable.from([]), output, sigterm: false },
    )
    await stalled.promise
    expect(written).toBeLessThan(32)
    pull.resolve()
    await done
    expect(written).toBe(32)
    expect(consumed).toBeGreaterThan(32 * 64 * 1024)
  })

  it('frames a body of unknown length as chunked under lighttpd 1.4.56 and later only', async () => {
    const streamed: App = () => [
      200,
      [],
      (async function* () {
        yield 'a'
        yield ''
        yield 'bc'
      })(),
    ]
    const lighttpd = await cgi(streamed, { SERVER_SOFTWARE: 'lighttpd/1.4.69' })
    expect(lighttpd.raw.toString()).toBe(
      'Status: 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n',
    )
    for (const software of ['lighttpd/1.4.55', 'Apache/2.4.71 (Debian)', undefined]) {
      const { res } = await cgi(streamed, software === undefined ? {} : { SERVER_SOFTWARE: software })
      expect([software, res.chunked, res.body.toString()]).toEqual([software, false, 'abc'])
    }
    expect(
      (await cgi(streamed, { SERVER_SOFTWARE: 'lighttpd/1.4.69' }, { chunked: false })).res.chunked,
    ).toBe(false)
    expect((await cgi(streamed, {}, { chunked: true })).res.chunked).toBe(true)
    // a known length is the front end's framing: no chunks
    const known = await cgi(() => text('abc'), { SERVER_SOFTWARE: 'lighttpd/1.4.69' })
    expect([known.res.chunked, known.res.field('content-length')]).toEqual([false, '3'])
  })

  it('streams the request body from stdin as it arrives', async () => {
    const stdin = new PassThrough()
    const { output, bytes } = stdout()
    const gotFirst = deferred()
    const done = runCgi(
      (env) => async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        for await (const chunk of env['tsgi.input']) {
          await writer.write(`<${Buffer.from(chunk).toString()}>`)
          gotFirst.resolve()
        }
        await writer.close()
      },
      {
        env: cgiVars({ REQUEST_METHOD: 'POST', CONTENT_LENGTH: '10', CONTENT_TYPE: 'text/plain' }),
        input: stdin,
        output,
        sigterm: false,
      },
    )
    stdin.write('hello')
    await gotFirst.promise
    expect(parseCgi(bytes()).body.toString()).toBe('<hello>')
    stdin.write('world')
    // more than CONTENT_LENGTH, and no end: the body stops at its length (RFC 3875 §4.2)
    stdin.write('beyond')
    await done
    expect(parseCgi(bytes()).body.toString()).toBe('<hello><world>')
  })

  it('reads stdin to its end without CONTENT_LENGTH; a body short of it fails the read', async () => {
    const echo: App = async (env) => {
      const parts: Uint8Array[] = []
      for await (const chunk of env['tsgi.input']) parts.push(chunk)
      return text(Buffer.concat(parts).toString())
    }
    const post = { REQUEST_METHOD: 'POST' }
    const whole = await cgi(echo, post, { input: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) })
    expect(whole.res.body.toString()).toBe('abcd')
    const short = await cgi(
      echo,
      { ...post, CONTENT_LENGTH: '9' },
      { input: Readable.from([Buffer.from('ab')]) },
    )
    expect(short.res.status).toBe(500)
    expect(short.errors).toMatch(/the request body ended after 2 of its 9 bytes/)
    const none = await cgi(echo, { CONTENT_LENGTH: '0' }, { input: new PassThrough() })
    expect(none.res.body.toString()).toBe('')
  })

  it('gives the env of the CGI variables: run_once and multiprocess true, the tsgi keys', async () => {
    const { res } = await cgi(
      (env) =>
        text(
          JSON.stringify([
            env.SCRIPT_NAME,
            env.PATH_INFO,
            env.QUERY_STRING,
            env['tsgi.url_scheme'],
            env['tsgi.run_once'],
            env['tsgi.multiprocess'],
            env['tsgi.multithread'],
            env['tsgix.signal'] instanceof AbortSignal,
            env.GATEWAY_INTERFACE,
            typeof env['tsgix.early_hints'],
          ]),
        ),
      { PATH_INFO: '/a b', REQUEST_URI: '/app.cgi/a%20b?q=1', QUERY_STRING: 'q=1' },
    )
    expect(JSON.parse(res.body.toString())).toEqual([
      '/app.cgi',
      '/a b',
      'q=1',
      'http',
      true,
      true,
      false,
      true,
      'CGI/1.1',
      'function',
    ])
  })

  it('answers a request path that does not decode with 400', async () => {
    const { res } = await cgi(() => text('never'), { REQUEST_URI: '/app.cgi/%zz', PATH_INFO: '/%zz' })
    expect(res.status).toBe(400)
    expect(res.body.toString()).toBe('Bad Request')
  })

  it('answers an app that throws with 500 and writes the error to tsgi.errors', async () => {
    const { res, errors } = await cgi(() => {
      throw new Error('the app broke')
    })
    expect([res.status, res.reason, res.body.toString()]).toEqual([
      500,
      'Internal Server Error',
      'Internal Server Error',
    ])
    expect(errors).toMatch(/GET \/app\.cgi\/: Error: the app broke/)
    const http = await cgi(() => {
      throw new HttpError(404)
    })
    expect(http.res.status).toBe(404)
  })

  it('cuts a response that fails after its head: no last chunk, the head never sent alone', async () => {
    const failing: App = () => async (respond) => {
      const writer = respond([200, []])
      await writer.write('first')
      throw new Error('failed after the head')
    }
    const lighttpd = await cgi(failing, { SERVER_SOFTWARE: 'lighttpd/1.4.69' })
    expect([lighttpd.res.chunked, lighttpd.res.terminated, lighttpd.res.body.toString()]).toEqual([
      true,
      false,
      'first',
    ])
    expect(lighttpd.errors).toMatch(/failed after the head/)
    // a head the app's body fails before (nothing of it written) stays unwritten: the front
    // end answers with its own error
    const log = errorLog()
    const { output, bytes } = stdout()
    await runCgi(
      () => [
        200,
        ['Content-Length', '100'],
        (async function* () {
          yield 'part'
          throw new Error('failed in the body')
        })(),
      ],
      { env: cgiVars(), input: Readable.from([]), output, errors: log.stream, sigterm: false },
    )
    const raw = bytes().toString()
    expect(raw.startsWith('Status: 200 OK\r\nContent-Length: 100\r\n\r\npart')).toBe(true)
    expect(raw.length).toBeLessThan(100)
  })

  it('aborts tsgix.signal when stdout fails (the front end closed it), runs cleanup, resolves', async () => {
    const reasons: unknown[] = []
    const closed = deferred()
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // the first body chunk goes out; then the pipe is gone (EPIPE)
        if (chunk.includes('more')) callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
        else callback()
      },
    })
    await runCgi(
      (env) => {
        env['tsgix.cleanup.handlers']?.push((e) => {
          reasons.push(`cleanup: ${String(e['tsgix.signal']?.reason)}`)
        })
        async function* body() {
          try {
            yield 'first'
            for (;;) yield 'more'
          } finally {
            reasons.push(`finally: ${String(env['tsgix.signal']?.reason)}`)
            closed.resolve()
          }
        }
        return [200, [], body()]
      },
      { env: cgiVars(), input: Readable.from([]), output, sigterm: false, errors: errorLog().stream },
    )
    await closed.promise
    expect(reasons.sort()).toEqual(['cleanup: client-disconnected', 'finally: client-disconnected'])
  })

  it('resolves only once the cleanup handlers ran; the signal is not aborted after success', async () => {
    const seen: unknown[] = []
    await cgi((env) => {
      env['tsgix.cleanup.handlers']?.push(async (e) => {
        await new Promise((resolve) => setImmediate(resolve))
        seen.push(e['tsgix.signal']?.aborted)
      })
      return text('done')
    })
    expect(seen).toEqual([false])
  })

  it('runs the lifespan around the request; a failed startup is a 500', async () => {
    const events: string[] = []
    const app = lifespan({
      startup: () => {
        events.push('startup')
      },
      shutdown: () => {
        events.push('shutdown')
      },
    })
    const wrapped = builder(app, (_env: Env) => {
      events.push('request')
      return text('ok')
    })
    expect((await cgi(wrapped)).res.status).toBe(200)
    expect(events).toEqual(['startup', 'request', 'shutdown'])
    const failing = builder(
      lifespan({
        startup: () => {
          throw new Error('no database')
        },
      }),
      () => text('never'),
    )
    const { res, errors } = await cgi(failing)
    expect(res.status).toBe(500)
    expect(errors).toMatch(/lifespan startup failed: Error: no database/)
  })

  it('answers 503 when the request timeout passes before the head', async () => {
    const { res } = await cgi(() => () => new Promise<void>(() => {}), {}, { requestTimeout: 20 })
    expect(res.status).toBe(503)
  })

  it.each([
    [{ errors: 5 }, "runCgi: option 'errors' must be an object with a write method"],
    [{ nope: 1 }, "runCgi: unknown option 'nope'"],
    [{ input: {} }, "runCgi: option 'input' must be an async iterable"],
    [{ output: {} }, "runCgi: option 'output' must be a Writable"],
    [{ env: 'x' }, "runCgi: option 'env' must be an object"],
    [{ requestTimeout: -1 }, "runCgi: option 'requestTimeout' must be"],
    [{ chunked: 'yes' }, "runCgi: option 'chunked' must be a boolean"],
    [{ sigterm: 1 }, "runCgi: option 'sigterm' must be a boolean"],
  ])('throws a TypeError for bad options: %j', (options, message) => {
    expect(() => runCgi(() => text('x'), options as CgiOptions)).toThrow(TypeError)
    expect(() => runCgi(() => text('x'), options as CgiOptions)).toThrow(message)
  })

  it('throws a TypeError when app is not a function', () => {
    expect(() => runCgi('app' as unknown as App)).toThrow('runCgi: app must be a function')
  })
})

/** Time for building the package the scripts run on (see cgi-helpers.ts), on a busy machine. */
const BUILD_TIMEOUT = 120_000

/** Runs `command` as a CGI process with `vars` and `body` on stdin; gives its stdout and exit code. */
async function runProcess(
  command: readonly string[],
  vars: CgiVariables,
  options: { body?: Buffer; cwd: string; onStdout?: (child: ChildProcess, raw: Buffer) => void },
): Promise<{ raw: Buffer; code: number | null; stderr: string }> {
  const child = spawn(command[0]!, command.slice(1), {
    env: { PATH: process.env.PATH, ...vars },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const parts: Buffer[] = []
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    parts.push(d)
    if (options.onStdout) options.onStdout(child, Buffer.concat(parts))
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdin!.end(options.body)
  const [code] = (await once(child, 'exit')) as [number | null]
  return { raw: Buffer.concat(parts), code, stderr }
}

describe('the CGI script as a process', () => {
  let pkg: BuiltPackage
  let rendezvous: Rendezvous
  beforeAll(async () => {
    pkg = await builtPackage()
    rendezvous = await startRendezvous()
  }, BUILD_TIMEOUT)
  afterAll(() => rendezvous?.close())

  it('answers its request on stdout and exits 0', async () => {
    const body = Buffer.from('name=tsgi')
    const { raw, code } = await runProcess(
      [pkg.appScript],
      cgiVars({
        REQUEST_METHOD: 'POST',
        PATH_INFO: '/body',
        REQUEST_URI: '/app.cgi/body',
        CONTENT_LENGTH: String(body.length),
      }),
      { body, cwd: pkg.root },
    )
    expect(code).toBe(0)
    const res = parseCgi(raw)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body.toString())).toMatchObject({
      length: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    })
  })

  it('takes SIGTERM (the front end ending the request) as the client leaving, and exits 0', async () => {
    const report = rendezvous.report()
    let signalled = false
    const { raw, code } = await runProcess(
      [pkg.appScript],
      cgiVars({ PATH_INFO: '/leave', REQUEST_URI: '/app.cgi/leave', HTTP_X_REPORT: report.url }),
      {
        cwd: pkg.root,
        onStdout: (child, out) => {
          if (!signalled && out.includes('first')) {
            signalled = true
            child.kill('SIGTERM')
          }
        },
      },
    )
    expect(await report.value).toBe('cleanup: client-disconnected')
    expect(code).toBe(0)
    expect(raw.toString()).toMatch(/^Status: 200 OK\r\n/)
  })
})

/** An app file for tsgiup: echoes its path. */
const TSGIUP_APP = `export default (env: { PATH_INFO: string; SCRIPT_NAME: string }) =>
  [200, ['Content-Type', 'text/plain'], [\`tsgiup at \${env.SCRIPT_NAME} \${env.PATH_INFO}\`]]
`

describe('tsgiup -s cgi', () => {
  let dir: string
  let pkg: BuiltPackage
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-cgi-cli-'))
    chmodSync(dir, 0o755)
    writeFileSync(join(dir, 'app.ts'), TSGIUP_APP)
    pkg = await builtPackage()
  }, BUILD_TIMEOUT)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([[['-s', 'cgi', '-r']], [['-s', 'cgi', '--workers', '2']], [['-s', 'cgi', '-R', 'lib']]])(
    'refuses %j with one line',
    async (argv) => {
      const out: string[] = []
      const err: string[] = []
      const code = await run([...argv, 'app.ts'], {
        cwd: dir,
        env: {},
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
      })
      expect(code).toBe(2)
      expect(out).toEqual([])
      expect(err.join('')).toMatch(/^tsgiup: -s cgi answers one request per process: it takes no .*\n$/)
    },
  )

  it('answers the request on stdout, with no banner, and exits 0', async () => {
    const { raw, code, stderr } = await runProcess(
      [process.execPath, pkg.bin, '-s', 'cgi', '-E', 'production', 'app.ts'],
      cgiVars({ PATH_INFO: '/x', REQUEST_URI: '/app.cgi/x' }),
      { cwd: dir },
    )
    expect([code, stderr]).toEqual([0, ''])
    expect(raw.toString()).toBe(
      'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\ntsgiup at /app.cgi /x',
    )
  })
})

/** A response read with node:http: status, reason, headers, the body, and whether it ended cleanly. */
interface Fetched {
  readonly status: number
  readonly reason: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  /** The body could not be read to a clean end (a cut response). */
  readonly cut: boolean
}

interface FetchOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: Buffer
  /** Called with each body chunk and the request (to destroy it). */
  readonly onChunk?: (chunk: Buffer, received: Buffer, destroy: () => void) => void
}

function get(url: string, options: FetchOptions = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      const parts: Buffer[] = []
      const settle = (cut: boolean) =>
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(parts),
          cut,
        })
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk)
        options.onChunk?.(chunk, Buffer.concat(parts), () => req.destroy())
      })
      res.on('end', () => settle(false))
      res.on('error', () => settle(true))
      res.on('aborted', () => settle(true))
      res.on('close', () => {
        if (!res.complete) settle(true)
      })
    })
    req.end(options.body)
  })
}

/** How a front end mounts a CGI script at `/app` (and what differs between them). */
interface FrontEndCase {
  readonly name: string
  skip(): boolean
  /** Starts it with `script` mounted at `/app`, or at the root with `root`. */
  start(script: string, at: 'app' | 'root'): Promise<FrontEnd>
  /** The reason phrase a client sees for the app's 'Made Here'. */
  readonly reason: string
  /** Whether a response cut after its head reaches the client cut (else it ends cleanly). */
  readonly showsCut: boolean
}

/** lighttpd mod_cgi: the configuration docs/servers.md shows. */
function lighttpdConfig(script: string, at: 'app' | 'root'): string {
  return `server.modules += ( "mod_alias", "mod_cgi", "mod_setenv" )
server.stream-response-body = 2
server.stream-request-body = 1
alias.url = ( "${at === 'app' ? '/app' : '/'}" => "${script}${at === 'app' ? '' : '/'}" )
cgi.assign = ( ".mjs" => "" )
setenv.add-environment = ( "PATH" => "${process.env.PATH ?? '/usr/bin:/bin'}" )`
}

/** Apache mod_cgi or mod_cgid: the configuration docs/servers.md shows. */
function apacheConfig(script: string, at: 'app' | 'root', dir: string, cgid: boolean): string {
  const mount = at === 'app' ? `ScriptAlias /app "${script}"` : `ScriptAliasMatch "^(/.*)?$" "${script}$1"`
  return `${cgid ? `ScriptSock "${dir}/cgid.sock"\n` : ''}${mount}
<Directory "${join(script, '..')}">
  Require all granted
</Directory>`
}

const frontEnds: FrontEndCase[] = [
  {
    name: 'lighttpd mod_cgi',
    skip: () => skipLighttpd('CGI through lighttpd'),
    start: (script, at) => startLighttpd({ config: lighttpdConfig(script, at) }),
    reason: 'Created',
    showsCut: true,
  },
  {
    name: 'Apache mod_cgid (event MPM)',
    skip: () => skipApache('CGI through Apache mod_cgid'),
    start: (script, at) =>
      startApache({ modules: ['alias', 'cgid'], config: (p) => apacheConfig(script, at, p.dir, true) }),
    reason: 'Made Here',
    showsCut: false,
  },
  {
    name: 'Apache mod_cgi (prefork MPM)',
    skip: () => skipApache('CGI through Apache mod_cgi'),
    start: (script, at) =>
      startApache({
        mpm: 'prefork',
        modules: ['alias', 'cgi'],
        config: (p) => apacheConfig(script, at, p.dir, false),
      }),
    reason: 'Made Here',
    showsCut: false,
  },
]

for (const fe of frontEnds) {
  describe.skipIf(fe.skip())(`CGI through ${fe.name}`, () => {
    let pkg: BuiltPackage
    let server: FrontEnd
    let rendezvous: Rendezvous
    beforeAll(async () => {
      pkg = await builtPackage()
      rendezvous = await startRendezvous()
      server = await fe.start(pkg.appScript, 'app')
    }, BUILD_TIMEOUT)
    afterAll(async () => {
      await server?.stop()
      await rendezvous?.close()
    })
    const url = (path: string) => `${server.url}${path}`
    const env = async (path: string, options?: FetchOptions) => {
      const res = await get(url(path), options)
      expect(res.status, res.body.toString()).toBe(200)
      return JSON.parse(res.body.toString()) as Record<string, unknown>
    }

    it('GET with a query: SCRIPT_NAME is the mount, PATH_INFO the rest, http without HTTPS', async () => {
      expect(
        await env('/app/env/extra/path?name=tsgi&x=%20y', { headers: { 'X-Test': 'yes' } }),
      ).toMatchObject({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '/app',
        PATH_INFO: '/env/extra/path',
        REQUEST_URI: '/app/env/extra/path?name=tsgi&x=%20y',
        QUERY_STRING: 'name=tsgi&x=%20y',
        SERVER_NAME: '127.0.0.1',
        SERVER_PORT: String(server.port),
        SERVER_PROTOCOL: 'HTTP/1.1',
        HTTP_X_TEST: 'yes',
        HTTPS: null,
        'tsgi.url_scheme': 'http',
        'tsgi.run_once': true,
        'tsgi.multiprocess': true,
        'tsgi.multithread': false,
      })
    })

    it('PATH_INFO keeps repeated slashes and is decoded once', async () => {
      expect(await env('/app/env//a/b%2520c/caf%C3%A9')).toMatchObject({
        SCRIPT_NAME: '/app',
        PATH_INFO: '/env//a/b%20c/café',
      })
    })

    it.each([
      ['a small body', Buffer.from('name=tsgi&lang=ts')],
      ['a 1 MiB body', Buffer.alloc(1024 * 1024, 'tsgi ')],
    ])('POST with %s: tsgi.input streams it whole', async (_, body) => {
      expect(
        await env('/app/body', {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) },
        }),
      ).toMatchObject({ length: body.length, sha256: createHash('sha256').update(body).digest('hex') })
    })

    it('a custom status and headers', async () => {
      const res = await get(url('/app/status'))
      expect([res.status, res.reason]).toEqual([201, fe.reason])
      expect(res.headers['content-type']).toBe('text/x-test')
      expect(res.headers['x-one']).toBe('1')
      expect(res.headers['x-multi']).toBe('a, b')
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2'])
      expect(res.body.toString()).toBe('created')
    })

    it('a streamed body reaches the client as it is written', async () => {
      const gate = rendezvous.gate()
      let sawFirst = false
      const res = await get(url('/app/stream'), {
        headers: { 'X-Gate': gate.url },
        onChunk: (_, received) => {
          // the first line is here while the app still waits on the gate: open it
          if (!sawFirst && received.toString() === 'first\n') {
            sawFirst = true
            gate.open()
          }
        },
      })
      expect(sawFirst).toBe(true)
      expect([res.status, res.body.toString(), res.cut]).toEqual([200, 'first\nsecond\n', false])
    })

    it('404 and 500 from the app; the error goes to the front end error log', async () => {
      const missing = await get(url('/app/missing'))
      expect([missing.status, missing.body.toString()]).toEqual([404, 'no such thing'])
      const failed = await get(url('/app/fail'))
      expect([failed.status, failed.body.toString()]).toEqual([500, 'Internal Server Error'])
      expect(server.errorLog()).toMatch(/tsgi: GET \/app\/fail: Error: boom from the CGI app/)
    })

    it('HEAD: the head without the body', async () => {
      const res = await get(url('/app/head'), { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('text/plain')
      expect(res.body.length).toBe(0)
    })

    it(`a response that fails after its head ${fe.showsCut ? 'reaches the client cut' : 'ends cleanly (the front end frames it)'}`, async () => {
      const gate = rendezvous.gate()
      const res = await get(url('/app/cut'), {
        headers: { 'X-Gate': gate.url },
        onChunk: () => gate.open(),
      })
      expect([res.status, res.body.toString(), res.cut]).toEqual([200, 'first\n', fe.showsCut])
    })

    it('a client that leaves aborts tsgix.signal (the front end sends SIGTERM)', async () => {
      const report = rendezvous.report()
      await get(url('/app/leave'), {
        headers: { 'X-Report': report.url },
        onChunk: (_, received, destroy) => {
          if (received.includes('first')) destroy()
        },
      }).catch(() => undefined)
      expect(await report.value).toBe('cleanup: client-disconnected')
    })

    it('mounted at the root: SCRIPT_NAME is empty, PATH_INFO the whole path', async () => {
      const rooted = await fe.start(pkg.appScript, 'root')
      try {
        const res = await get(`${rooted.url}/env/x?q=1`)
        expect(JSON.parse(res.body.toString())).toMatchObject({
          SCRIPT_NAME: '',
          PATH_INFO: '/env/x',
          REQUEST_URI: '/env/x?q=1',
        })
      } finally {
        await rooted.stop()
      }
    })
  })
}

describe.skipIf(skipLighttpd('tsgiup -s cgi through lighttpd'))('tsgiup -s cgi through lighttpd', () => {
  let dir: string
  let server: FrontEnd
  beforeAll(async () => {
    const pkg = await builtPackage()
    dir = mkdtempSync(join(tmpdir(), 'tsgi-cgi-tsgiup-'))
    chmodSync(dir, 0o755)
    writeFileSync(join(dir, 'app.ts'), TSGIUP_APP)
    const wrapper = join(dir, 'app.cgi')
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec "${process.execPath}" "${pkg.bin}" -s cgi -E production "${dir}/app.ts"\n`,
    )
    chmodSync(wrapper, 0o755)
    server = await startLighttpd({
      config: `server.modules += ( "mod_alias", "mod_cgi" )
alias.url = ( "/tsgiup" => "${wrapper}" )
cgi.assign = ( ".cgi" => "" )`,
    })
  }, BUILD_TIMEOUT)
  afterAll(async () => {
    await server?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('serves the app file', async () => {
    const res = await get(`${server.url}/tsgiup/some/path`)
    expect([res.status, res.body.toString()]).toEqual([200, 'tsgiup at /tsgiup /some/path'])
  })
})
