/**
 * The server conformance suite through a real lighttpd `mod_cgi` in front of `tsgi/server/cgi`:
 * each case gets a lighttpd of its own with the suite's CGI script (test/fixtures/cgi/suite.mjs,
 * on the package built for it, see cgi-helpers.ts) mounted at the root, so every request of
 * the case is a CGI process running that case's app. The app and its check share a board
 * across the process boundary through a bridge server here (see suite.mjs), and the check
 * reads `tsgi.errors` from the file the script appends to. Cases run five at a time.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { runServerSuite, serverSuiteCases } from '../../src/testing/suite.js'
import { post, received } from '../../src/testing/suite-support.js'
import type { Env } from '../../src/types.js'
import { type BuiltPackage, builtPackage } from './cgi-helpers.js'
import { type FrontEnd, skipLighttpd, startLighttpd } from './lighttpd-fixture.js'

/** The env a board function reads its token from. */
function tokenEnv(token: string): Env {
  return { HTTP_X_TSGI_SUITE_TOKEN: token } as unknown as Env
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** The board's side in this process: what a check handed, and what the app posts. */
function startBridge(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const [, kind, token = ''] = (req.url ?? '').split('/')
    const json = (value: unknown) => {
      res.setHeader('Content-Type', 'application/json')
      // no keep-alive: an idle connection would keep the CGI process (and its response) alive
      res.setHeader('Connection', 'close')
      res.end(JSON.stringify(value))
    }
    const value = received(tokenEnv(token))
    if (kind === 'handed') {
      if (value === undefined) json({ kind: 'none' })
      else json(isPromiseLike(value) ? { kind: 'promise' } : { kind: 'value', value })
    } else if (kind === 'settled') {
      void Promise.resolve(value).then((settled) => json({ value: settled }))
    } else if (kind === 'post') {
      const parts: Buffer[] = []
      req.on('data', (chunk: Buffer) => parts.push(chunk))
      req.on('end', () => {
        post(tokenEnv(token), (JSON.parse(Buffer.concat(parts).toString()) as { value?: unknown }).value)
        json({})
      })
    } else {
      res.statusCode = 404
      res.end()
    }
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })
    })
  })
}

/**
 * Cases that cannot pass through CGI, each with the reason the protocol (or the front end in
 * front of it, or the app running in another process) forces. Everything else runs.
 */
const CGI_CANNOT: Readonly<Record<string, string>> = {
  'required tsgi keys': 'a CGI process serves one request: tsgi.run_once is true (the case expects false)',
  'custom reason phrase': 'lighttpd writes its own reason phrase, whatever the Status line says',
  'file body':
    'the app runs from the built package in another process: its own file is dist/…/suite-cases-response-body.js, the check reads the .ts',
  'file body with Content-Length': 'the same: the app sends the .js file, the check reads the .ts',
  'Transfer-Encoding beside Content-Length: chunked framing, one length header at most':
    'lighttpd frames what it sends: a body it has whole at once goes out with its Content-Length',
  'client disconnect aborts tsgix.signal and closes the body':
    "lighttpd takes a client's FIN for a half-close and learns that the client left only when it next writes to it; this app writes nothing after its first chunk (the writer-loop case runs)",
  'Writer.close resolves and does nothing after the client left':
    'the same: nothing is written after the first chunk',
  'a never-ending iterable body is returned when the client leaves':
    'the same: nothing is written after the first chunk',
}

describe.skipIf(skipLighttpd('the conformance suite through lighttpd mod_cgi'))(
  'conformance through lighttpd mod_cgi',
  () => {
    let pkg: BuiltPackage
    let bridge: { url: string; server: Server }
    let dir: string
    let runs = 0
    /** Servers of cases still running: a case that times out never gets to close its own. */
    const open = new Set<FrontEnd>()
    beforeAll(async () => {
      // the package the script runs on (see cgi-helpers.ts); on a busy machine this takes a while
      pkg = await builtPackage()
      bridge = await startBridge()
      dir = mkdtempSync(join(tmpdir(), 'tsgi-cgi-suite-'))
    }, 120_000)
    afterAll(async () => {
      await Promise.all([...open].map((server) => server.stop()))
      bridge?.server.closeAllConnections()
      await new Promise<void>((resolve) => (bridge ? bridge.server.close(() => resolve()) : resolve()))
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    runServerSuite(
      { describe, it: (name, body) => it.concurrent(name, body, 30_000) },
      async (app) => {
        const index = serverSuiteCases.findIndex((c) => c.app === app)
        const runFile = join(dir, `run-${runs}.json`)
        const errorsFile = join(dir, `run-${runs++}.errors`)
        writeFileSync(errorsFile, '')
        writeFileSync(
          runFile,
          JSON.stringify({
            index,
            name: serverSuiteCases[index]?.name,
            bridge: bridge.url,
            errors: errorsFile,
          }),
        )
        const lighttpd = await startLighttpd({
          config: `server.modules += ( "mod_alias", "mod_cgi", "mod_setenv" )
server.stream-response-body = 2
server.stream-request-body = 1
alias.url = ( "/" => "${pkg.suiteScript}/" )
cgi.assign = ( ".mjs" => "" )
setenv.add-environment = ( "PATH" => "${process.env.PATH ?? '/usr/bin:/bin'}", "TSGI_SUITE_RUN" => "${runFile}" )`,
        })
        open.add(lighttpd)
        return {
          url: lighttpd.url,
          close: () => {
            open.delete(lighttpd)
            return lighttpd.stop()
          },
          errors: () => readFileSync(errorsFile, 'utf8'),
        }
      },
      { name: 'TSGI server conformance (CGI)', skip: Object.keys(CGI_CANNOT) },
    )
  },
)
