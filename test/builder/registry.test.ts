import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { builder, builtins, enable, enableIf, isBuiltinName } from '../../builder/index.js'
import type { App, Env, Triple } from '../../src/types.js'

function makeEnv(extra: Record<string, unknown> = {}): Env {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    REQUEST_URI: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    HTTP_HOST: 'localhost',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': (async function* () {})(),
    'tsgi.errors': { write: () => true },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
    ...extra,
  }
}

async function call(app: App, env: Env = makeEnv()): Promise<Triple> {
  const res = await app(env)
  if (typeof res === 'function') throw new Error('unexpected delayed response')
  return res
}

const ok: App = () => [200, ['Content-Type', 'text/plain'], ['ok']]
const badHeader: App = () => [200, ['Content-Type', 'text/plain', 'X-Bad', 'a\r\nb'], ['ok']]

describe('built-in middleware table', () => {
  it('knows the built-ins by their Plack names, exactly those of the README table, and nothing inherited', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const listed = [
      ...readme.matchAll(/^\| \[[^\]]+\]\(docs\/middleware\/[^)]+\.md\) \| `([^`]+)` \|/gm),
    ].map((m) => m[1])
    expect(Object.keys(builtins).sort()).toEqual([...listed].sort())
    for (const factory of Object.values(builtins)) expect(typeof factory).toBe('function')
    expect(isBuiltinName('Lint')).toBe(true)
    expect(isBuiltinName('Conditional')).toBe(true)
    expect(isBuiltinName('toString')).toBe(false)
    expect(isBuiltinName('lint')).toBe(false)
    expect(() => enable('toString' as 'Lint')).toThrow(/unknown middleware 'toString'/)
  })

  it("enable('Lint') passes a good response and rejects a bad header", async () => {
    expect((await call(builder(enable('Lint'), ok)))[2]).toEqual(['ok'])
    await expect(call(builder(enable('Lint'), badHeader))).rejects.toThrow(/Lint/)
  })

  it("enable('Lint', options) passes options to the factory", async () => {
    const lines: string[] = []
    const env = makeEnv({ 'tsgi.errors': { write: (s: string) => lines.push(s) } })
    const res = await call(builder(enable('Lint', { strict: false, name: 'outer' }), badHeader), env)
    expect(res[0]).toBe(200)
    expect(lines.join('')).toMatch(/Lint\(outer\)/)
  })

  it("enableIf(cond, 'Lint') lints only the requests that match", async () => {
    const app = builder(
      enableIf((env) => env.HTTP_X_LINT === '1', 'Lint'),
      badHeader,
    )
    expect((await call(app))[0]).toBe(200)
    await expect(call(app, makeEnv({ HTTP_X_LINT: '1' }))).rejects.toThrow(/Lint/)
  })

  it("enable('Conditional', options) is the same as enableIf", async () => {
    const shout =
      (app: App): App =>
      async (env) => {
        const res = (await app(env)) as Triple
        return [res[0], res[1], (res[2] as string[]).map((s) => s.toUpperCase())]
      }
    const app = builder(
      enable('Conditional', { condition: (env) => env.QUERY_STRING === 'loud', builder: shout }),
      ok,
    )
    expect((await call(app))[2]).toEqual(['ok'])
    expect((await call(app, makeEnv({ QUERY_STRING: 'loud' })))[2]).toEqual(['OK'])
  })
})
