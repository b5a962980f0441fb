import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { builder, builtins, enable, enableIf, isBuiltinName } from '../../builder/index.js'
import { requestEnv } from '../../src/testing/index.js'
import type { App, Triple } from '../../src/types.js'
import { callTriple } from '../middleware/forms.js'

const ok: App = () => [200, ['Content-Type', 'text/plain'], ['ok']]
const badHeader: App = () => [200, ['Content-Type', 'text/plain', 'X-Bad', 'a\r\nb'], ['ok']]

describe('built-in middleware table', () => {
  it('has a docs page with the five sections, and a cherry-pickable file, for every README row', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const rows = [...readme.matchAll(/^\| \[([^\]]+)\]\(docs\/middleware\/([^)]+)\.md\) \|/gm)]
    expect(rows.length).toBe(Object.keys(builtins).length)
    for (const [, name, page] of rows) {
      expect(name).toBe(page)
      const doc = readFileSync(new URL(`../../docs/middleware/${page}.md`, import.meta.url), 'utf8')
      for (const section of ['Usage', 'Options', 'Env keys', 'Behaviour', 'Differences from Plack']) {
        expect(doc, `docs/middleware/${page}.md: ## ${section}`).toMatch(new RegExp(`^## ${section}$`, 'm'))
      }
      expect(
        existsSync(new URL(`../../middleware/${page}.ts`, import.meta.url)),
        `middleware/${page}.ts`,
      ).toBe(true)
    }
  })

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
    expect((await callTriple(builder(enable('Lint'), ok), requestEnv()))[2]).toEqual(['ok'])
    await expect(callTriple(builder(enable('Lint'), badHeader), requestEnv())).rejects.toThrow(/Lint/)
  })

  it("enable('Lint', options) passes options to the factory", async () => {
    const lines: string[] = []
    const env = requestEnv({ 'tsgi.errors': { write: (s: string) => lines.push(s) } })
    const res = await callTriple(builder(enable('Lint', { strict: false, name: 'outer' }), badHeader), env)
    expect(res[0]).toBe(200)
    expect(lines.join('')).toMatch(/Lint\(outer\)/)
  })

  it("enableIf(cond, 'Lint') lints only the requests that match", async () => {
    const app = builder(
      enableIf((env) => env.HTTP_X_LINT === '1', 'Lint'),
      badHeader,
    )
    expect((await callTriple(app, requestEnv()))[0]).toBe(200)
    await expect(callTriple(app, requestEnv({ HTTP_X_LINT: '1' }))).rejects.toThrow(/Lint/)
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
    expect((await callTriple(app, requestEnv()))[2]).toEqual(['ok'])
    expect((await callTriple(app, requestEnv({ QUERY_STRING: 'loud' })))[2]).toEqual(['OK'])
  })
})
