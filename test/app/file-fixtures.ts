/**
 * Real files for the File, Directory and Static tests: a root with text, binary, precompressed
 * siblings, a subdirectory, awkward names and symbolic links (one escaping the root), and a
 * secret file beside the root that must never be served. Also an env for a decoded path and a
 * raw HTTP request helper that sends paths exactly as given (the WHATWG URL parser would
 * normalise them).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { requestEnv } from '../../src/testing/index.js'
import type { Env } from '../../src/types.js'

export const SECRET = 'TOP-SECRET-OUTSIDE-ROOT'
export const CSS = 'body { color: red }\n'.repeat(20)
export const BIN = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
export const MTIME = new Date('2020-01-02T03:04:05Z')

export interface Fixture {
  readonly base: string
  readonly root: string
  cleanup(): void
}

/** Creates the fixture tree in a new temp dir. */
export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'tsgi-file-'))
  const root = join(base, 'root')
  const put = (rel: string, data: string | Uint8Array) => writeFileSync(join(root, rel), data)
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true })
  mkdirSync(join(root, 'stuff..'))
  mkdirSync(join(base, 'outside'))
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET)
  writeFileSync(join(base, 'secret.txt'), SECRET)
  put('hello.txt', 'Hello\n')
  utimesSync(join(root, 'hello.txt'), MTIME, MTIME)
  put('data.bin', BIN)
  put('style.css', CSS)
  put('style.css.gz', gzipSync(CSS))
  put('style.css.br', brotliCompressSync(CSS))
  put('app.js', 'alert(1)\n')
  put('app.js.gz', gzipSync('alert(1)\n'))
  put('data.json', '{"a":1}')
  put('Changes', 'Revision history for Plack\n')
  put('face.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0]))
  put('empty.txt', '')
  put('#foo', 'hash')
  put('a b&<c>.txt', 'spaces')
  put('stuff../Hello.txt', 'Hello\n')
  put('sub/inner.txt', 'inner')
  symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'escape.txt'))
  symlinkSync(join(base, 'outside'), join(root, 'escape-dir'))
  symlinkSync('hello.txt', join(root, 'link.txt'))
  symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'app.js.br'))
  return { base, root, cleanup: () => rmSync(base, { recursive: true, force: true }) }
}

/**
 * An env for `PATH_INFO` given already decoded (so any character can be tested; REQUEST_URI
 * holds the same string), with `extra` keys on top.
 */
export function envFor(pathInfo: string, extra: Record<string, unknown> = {}): Env {
  return requestEnv({ PATH_INFO: pathInfo, REQUEST_URI: pathInfo, ...extra })
}

/** A raw GET of `path` (sent byte for byte) to the server at `url`: status and body. */
export function rawGet(
  url: string,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET', agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString('latin1'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
