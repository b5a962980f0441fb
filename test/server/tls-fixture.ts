/**
 * A self-signed certificate for `localhost` and `127.0.0.1`, made with the `openssl` command
 * the first time a test file asks for it (once per test file run, in a temp dir removed at
 * exit), and the skip rule of tests that need a real binary: without it they skip with a
 * printed reason ({@link skipWithout}); with TSGI_REQUIRE_INTEGRATION=1 they run and fail.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** True when the real-peer tests must run (and so fail when what they need is missing). */
export const integrationRequired = process.env.TSGI_REQUIRE_INTEGRATION === '1'

/** The path of `name` when it runs (`args` as its probe), else undefined. */
export function findBinary(name: string, args: readonly string[] = ['--version']): string | undefined {
  for (const candidate of [`/usr/bin/${name}`, name]) {
    try {
      execFileSync(candidate, args, { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return undefined
}

const printed = new Set<string>()

/**
 * Whether tests of `what` skip, `missing` being why they cannot run (undefined when they can).
 * A skip prints its reason once. With TSGI_REQUIRE_INTEGRATION=1 nothing skips: the tests
 * run and fail on what is missing.
 */
export function skipWithout(what: string, missing: string | undefined): boolean {
  if (missing === undefined || integrationRequired) return false
  const reason = `${what} skipped: ${missing} (set TSGI_REQUIRE_INTEGRATION=1 to make this an error)`
  if (!printed.has(reason)) {
    printed.add(reason)
    process.stderr.write(`${reason}\n`)
  }
  return true
}

/** `path`, or an error naming what is missing (for a test that runs without it). */
export function present(path: string | undefined, missing: string): string {
  if (path === undefined) throw new Error(`${missing}; TSGI_REQUIRE_INTEGRATION=1 requires it`)
  return path
}

/** The key and certificate, PEM. */
export interface TlsFixture {
  readonly key: Buffer
  readonly cert: Buffer
}

const openssl = findBinary('openssl', ['version'])

/** Why TLS tests cannot run here, or undefined when they can. */
export const tlsMissing: string | undefined =
  openssl === undefined ? 'openssl not found (Debian package openssl)' : undefined

let made: TlsFixture | undefined

/** The test certificate, made on first use. Throws when openssl is missing. */
export function tlsFixture(): TlsFixture {
  if (made) return made
  const bin = present(openssl, 'openssl not found')
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-tls-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync(
    bin,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  made = { key: readFileSync(key), cert: readFileSync(cert) }
  return made
}
