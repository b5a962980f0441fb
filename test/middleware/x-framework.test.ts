import { describe, expect, it } from 'vitest'
import { xFramework } from '../../middleware/x-framework.js'
import { testApp } from '../../src/testing/index.js'
import type { Env } from '../../src/types.js'
import { responseForms } from './forms.js'

describe('XFramework', () => {
  // Plack's xframework.t calls the app directly and compares the whole triple.
  it('adds X-Framework to the triple', async () => {
    const app = xFramework({ framework: 'Dog' })(() => [200, [], ['ok']])
    expect(await app({} as Env)).toEqual([200, ['X-Framework', 'Dog'], ['ok']])
  })

  it.each(responseForms(200, ['Content-Type', 'text/plain', 'X-Framework', 'Other'], ['ok']))(
    'sets the header (%s)',
    async (_, app) => {
      await testApp(xFramework({ framework: 'Dog' })(app), async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('x-framework')).toBe('Dog')
        expect(await res.text()).toBe('ok')
      })
    },
  )

  it.each<[unknown, RegExp]>([
    [undefined, /XFramework: option 'framework' is required/],
    [{}, /XFramework: option 'framework' is required/],
    [{ framework: '' }, /XFramework: option 'framework' must be a non-empty header value/],
    [{ framework: 'a\r\nb' }, /XFramework: option 'framework' must be a non-empty header value/],
    [{ framework: 1 }, /XFramework: option 'framework' must be a string/],
    [{ framework: 'x', name: 'y' }, /XFramework: unknown option 'name'/],
  ])('rejects %j', (options, message) => {
    expect(() => xFramework(options as never)).toThrow(TypeError)
    expect(() => xFramework(options as never)).toThrow(message)
  })
})
