import { realpathSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pathSegments } from '../../../src/app/file/locate.js'
import { file } from '../../../src/app/file.js'
import { isFileBody, readBody } from '../../../src/body.js'
import { testApp } from '../../../src/testing/index.js'
import type { App } from '../../../src/types.js'
import { callTriple } from '../../middleware/forms.js'
import { envFor, type Fixture, makeFixture, rawGet, SECRET } from '../file-fixtures.js'

let fx: Fixture
let app: App
beforeAll(() => {
  fx = makeFixture()
  app = file({ root: fx.root, precompressed: true, etag: true })
})
afterAll(() => fx.cleanup())

const TRAVERSALS: readonly (readonly [string, string])[] = [
  ['plain ../', '/../secret.txt'],
  ['nested ../', '/sub/../../secret.txt'],
  ['encoded slash', '/..%2fsecret.txt'],
  ['encoded dots', '/%2e%2e/secret.txt'],
  ['encoded dots and slash', '/%2e%2e%2fsecret.txt'],
  ['upper-case encoding', '/%2E%2E%2Fsecret.txt'],
  ['encoded backslash', '/..%5csecret.txt'],
  ['double-encoded dots', '/%252e%252e/secret.txt'],
  ['double-encoded slash', '/..%252fsecret.txt'],
  ['three dots', '/.../secret.txt'],
  ['NUL', '/hello.txt%00.jpg'],
  ['deep', '/..%2f..%2f..%2f..%2fetc%2fpasswd'],
  ['outside via dir', '/sub/..%2f..%2foutside/secret.txt'],
]

describe('File: path traversal', () => {
  it.each(TRAVERSALS)('%s (%s) is refused in process', async (_, raw) => {
    const res = await callTriple(app, envFor(decodeURIComponent(raw)))
    expect([400, 403, 404]).toContain(res[0])
    expect((await readBody(res[2])).toString()).not.toContain(SECRET)
  })

  it.each([
    ['/..\\secret.txt', 403],
    ['/sub\\..\\..\\secret.txt', 403],
    ['/a\0b', 400],
    ['/%2e%2e%5csecret.txt', 403],
    ['/%00', 400],
  ])('PATH_INFO %j → %i', async (path, status) => {
    expect((await callTriple(app, envFor(path)))[0]).toBe(status)
  })

  it('refuses every raw path through the real server', async () => {
    await testApp(
      app,
      async (_, { url }) => {
        for (const [, raw] of TRAVERSALS) {
          const res = await rawGet(url, raw)
          expect([400, 403, 404], raw).toContain(res.status)
          expect(res.body).not.toContain(SECRET)
        }
        const ok = await rawGet(url, '/hello.txt')
        expect([ok.status, ok.body]).toEqual([200, 'Hello\n'])
      },
      { impl: 'Server' },
    )
  })

  it('pathSegments never lets a dot-dot segment or a separator through (property)', () => {
    const piece = fc.constantFrom(
      '..',
      '.',
      '/',
      '\\',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%00',
      'a',
      '%',
      '\0',
      '...',
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const out = pathSegments(pieces.join(''))
        if (typeof out === 'number') return
        for (const s of out) {
          expect(s).not.toMatch(/^\.{2,}$/)
          expect(s).not.toMatch(/[\\/\0]/)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('never serves a file outside the root for any PATH_INFO (property)', async () => {
    const piece = fc.constantFrom(
      '..',
      '/',
      '\\',
      '%2e',
      '%2f',
      'secret.txt',
      'outside',
      'escape.txt',
      'sub',
      'root',
    )
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 8 }), async (pieces) => {
        const res = await callTriple(app, envFor(pieces.join('')))
        const body = res[2]
        if (isFileBody(body)) expect(body.path.startsWith(`${realpathSync(fx.root)}/`)).toBe(true)
        expect((await readBody(body)).toString()).not.toContain(SECRET)
      }),
      { numRuns: 300 },
    )
  })
})
