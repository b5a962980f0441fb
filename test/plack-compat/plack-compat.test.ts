/**
 * Plack compatibility: the corpus is sent over real HTTP to app.psgi under plackup and to the
 * equivalent app.ts under the tsgi node server; status, reason, headers (a sorted multimap of
 * lower-cased names) and body must match, except for the known differences, which are asserted.
 * Without plackup the suite is skipped with a warning, or fails when TSGI_REQUIRE_INTEGRATION=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve, type TsgiServer } from '../../src/server/node.js'
import { CORPUS, type CorpusRequest } from './corpus.js'
import { type Field, fields, fieldValue, type Normalised, normalise, send } from './exchange.js'
import { compatApp } from './fixtures/app.js'
import { type FieldValues, KNOWN_DIFFERENCES } from './known-differences.js'
import { hasPlackEtag, type Plackup, plackMissing, startPlackup } from './plackup.js'

const missing = plackMissing()
const required = process.env.TSGI_REQUIRE_INTEGRATION === '1'
const etag = missing === undefined && hasPlackEtag()

if (missing !== undefined && !required) {
  console.warn(`plack-compat: skipped, ${missing} (set TSGI_REQUIRE_INTEGRATION=1 to make this an error)`)
}
if (missing === undefined && !etag) {
  // Plack::Middleware::ETag is not part of Plack and has no Debian package: its requests run
  // only where it is installed (ETag is checked against its own translated tests elsewhere).
  console.warn('plack-compat: ETag requests left out, Plack::Middleware::ETag (CPAN) is not installed')
}

if (missing !== undefined && required) {
  describe('Plack compatibility (required)', () => {
    it('needs plackup and the Plack modules', () => {
      expect.fail(`TSGI_REQUIRE_INTEGRATION=1 but ${missing}`)
    })
  })
}

function entries(values: FieldValues): [Field, string | undefined][] {
  return Object.entries(values) as [Field, string | undefined][]
}

function compare(req: CorpusRequest, plack: Normalised, tsgi: Normalised): void {
  const known = KNOWN_DIFFERENCES[req.id]
  for (const [field, value] of entries(known?.tsgi ?? {})) {
    expect(fieldValue(tsgi, field), `${req.id}: tsgi's ${field} (${known?.reason})`).toBe(value)
    expect(fieldValue(plack, field), `${req.id}: Plack's ${field} should differ (${known?.reason})`).not.toBe(
      value,
    )
  }
  for (const [field, value] of entries(known?.plack ?? {})) {
    expect(fieldValue(plack, field), `${req.id}: Plack's ${field}`).toBe(value)
  }
  const expected = new Set(Object.keys(known?.tsgi ?? {}))
  const unexpected = fields(plack, tsgi)
    .filter((field) => !expected.has(field) && fieldValue(plack, field) !== fieldValue(tsgi, field))
    .map((field) => ({ field, plack: fieldValue(plack, field), tsgi: fieldValue(tsgi, field) }))
  expect(unexpected, `${req.id}: differences not in the known-differences table`).toEqual([])
  if (req.order) expect(tsgi.order, `${req.id}: header order`).toEqual(plack.order)
}

describe.skipIf(missing !== undefined)('Plack compatibility', () => {
  let plackup: Plackup | undefined
  let server: TsgiServer | undefined
  const errors: string[] = []

  beforeAll(async () => {
    plackup = await startPlackup()
    server = await serve(compatApp({ etag }), {
      port: 0,
      host: '127.0.0.1',
      errors: { write: (text: string) => void errors.push(text) },
    })
  })

  afterAll(async () => {
    await Promise.all([server?.close(), plackup?.stop()])
  })

  it('lists known differences only for corpus requests', () => {
    const ids = new Set(CORPUS.map((req) => req.id))
    expect(ids.size).toBe(CORPUS.length)
    expect(Object.keys(KNOWN_DIFFERENCES).filter((id) => !ids.has(id))).toEqual([])
  })

  for (const req of CORPUS.filter((r) => etag || r.etag !== true)) {
    const title = `${req.id}: ${req.method ?? 'GET'} ${req.path}`
    it(title, async () => {
      const plackRes = await send(plackup!.port, req)
      const tsgiRes = await send(server!.port, req)
      expect(plackRes.status, `${req.id}: Plack answered`).toBeGreaterThanOrEqual(200)
      compare(req, normalise(plackRes, tsgiRes), normalise(tsgiRes, plackRes))
    })
  }

  it('reports application errors through tsgi.errors, as Plack does through psgi.errors', () => {
    expect(errors.join('')).toMatch(/boom/)
    expect(plackup!.stderr()).toMatch(/boom/)
  })
})
