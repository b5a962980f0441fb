import { describe, expect, it } from 'vitest'
import { runtime } from '../../middleware/runtime.js'
import { testApp } from '../../src/testing/index.js'
import { responseForms } from './forms.js'

describe('Runtime', () => {
  // Plack's runtime.t sleeps 1 s; an injected clock says the same without the wait.
  it.each(responseForms(200, ['Content-Type', 'text/html'], ['Hello']))(
    'sets X-Runtime in seconds with 6 decimals (%s)',
    async (_, app) => {
      let ms = 1000
      const now = () => {
        const t = ms
        ms += 1234.5678
        return t
      }
      await testApp(runtime({ now })(app), async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('x-runtime')).toBe('1.234568')
        expect(await res.text()).toBe('Hello')
      })
    },
  )

  it.each(responseForms(200, ['X-Runtime', 'stale'], ['Hi']))(
    'replaces an existing header (%s)',
    async (_, app) => {
      await testApp(runtime()(app), async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('x-runtime')).toMatch(/^\d+\.\d{6}$/)
        expect(await res.text()).toBe('Hi')
      })
    },
  )

  it('takes another header name', async () => {
    await testApp(
      runtime({ headerName: 'X-Response-Time' })(() => [200, [], ['x']]),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('x-response-time')).toMatch(/^\d+\.\d{6}$/)
        expect(res.headers.has('x-runtime')).toBe(false)
      },
    )
  })

  it.each<[unknown, RegExp]>([
    [{ headerName: 'Bad Name' }, /Runtime: option 'headerName' must be a header name/],
    [{ headerName: 7 }, /Runtime: option 'headerName' must be a string/],
    [{ now: 1 }, /Runtime: option 'now' must be a function/],
    [{ header_name: 'X' }, /Runtime: unknown option 'header_name'/],
  ])('rejects %j', (options, message) => {
    expect(() => runtime(options as never)).toThrow(TypeError)
    expect(() => runtime(options as never)).toThrow(message)
  })
})
