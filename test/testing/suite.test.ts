import { describe, expect, it } from 'vitest'
import { runServerSuite, serverSuiteCases, testApp } from '../../src/testing/index.js'

describe('serverSuiteCases', () => {
  it('has unique names', () => {
    const names = serverSuiteCases.map((c) => c.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names.length).toBeGreaterThanOrEqual(50)
  })

  it.each(serverSuiteCases.map((c) => [c.name, c] as const))('%s passes in process', async (_name, c) => {
    await testApp(c.app, (fetch, ctx) => c.check(fetch, { ...ctx, protocol: 'http1' }), { impl: 'MockHTTP' })
  })
})

describe('runServerSuite', () => {
  it('registers one test per case in one describe block, minus skipped ones', () => {
    const blocks: string[] = []
    const tests: string[] = []
    runServerSuite(
      {
        describe: (name, body) => {
          blocks.push(name)
          body()
        },
        it: (name) => tests.push(name),
      },
      () => Promise.reject(new Error('not started')),
      { skip: ['bigger file'], name: 'mine' },
    )
    expect(blocks).toEqual(['mine'])
    expect(tests).toHaveLength(serverSuiteCases.length - 1)
    expect(tests).not.toContain('bigger file')
  })

  it("leaves out the cases marked for other protocols with client: 'http2'", () => {
    const tests: string[] = []
    const framework = {
      describe: (_name: string, body: () => void) => body(),
      it: (name: string) => tests.push(name),
    }
    runServerSuite(framework, () => Promise.reject(new Error('not started')), { client: 'http2' })
    const http1Only = serverSuiteCases.filter((c) => c.protocols && !c.protocols.includes('http2'))
    expect(http1Only.map((c) => c.name)).toEqual(
      expect.arrayContaining(['status line', 'custom reason phrase']),
    )
    expect(tests).toHaveLength(serverSuiteCases.length - http1Only.length)
    for (const c of http1Only) expect(tests).not.toContain(c.name)
  })

  it('rejects an unknown client protocol', () => {
    const framework = { describe: () => {}, it: () => {} }
    const options = { client: 'spdy' } as unknown as { client: 'http1' }
    expect(() => runServerSuite(framework, () => Promise.reject(new Error()), options)).toThrow(
      /runServerSuite: option client must be 'http1' or 'http2'/,
    )
  })

  it('rejects a skip name that names no case', () => {
    const framework = { describe: () => {}, it: () => {} }
    expect(() => runServerSuite(framework, () => Promise.reject(new Error()), { skip: ['nope'] })).toThrow(
      /runServerSuite: option skip names no case: "nope"/,
    )
  })
})
