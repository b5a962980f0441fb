import { describe, expect, it } from 'vitest'
import { rearrange, rearrangeHeaders } from '../../middleware/rearrange-headers.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Env, HeaderList, Triple } from '../../src/types.js'
import { responseForms } from './forms.js'

const plackHeaders = [
  'Last-Modified',
  'Wed, 23 Sep 2009 13:36:33 GMT',
  'Content-Type',
  'text/plain',
  'ETag',
  'foo bar',
]

describe('RearrangeHeaders: Plack rearrange_headers.t', () => {
  const app: App = () => [200, [...plackHeaders], ['Hello Foo']]

  it('leaves the order alone without the middleware', async () => {
    expect(((await app({} as Env)) as Triple)[1]).toEqual(plackHeaders)
  })

  it('rearranges with it', async () => {
    const res = (await rearrangeHeaders()(app)({} as Env)) as Triple
    expect(res[1]).toEqual([
      'ETag',
      'foo bar',
      'Content-Type',
      'text/plain',
      'Last-Modified',
      'Wed, 23 Sep 2009 13:36:33 GMT',
    ])
  })
})

describe('RearrangeHeaders: order', () => {
  it.each<[string, HeaderList, HeaderList]>([
    ['empty', [], []],
    [
      'general, response, entity, others by name',
      [
        'X-B',
        '1',
        'Content-Length',
        '3',
        'Vary',
        'Accept',
        'Date',
        'd',
        'a-other',
        '2',
        'Cache-Control',
        'no-cache',
      ],
      [
        'Cache-Control',
        'no-cache',
        'Date',
        'd',
        'Vary',
        'Accept',
        'Content-Length',
        '3',
        'a-other',
        '2',
        'X-B',
        '1',
      ],
    ],
    [
      'repeated headers keep their order and gather',
      ['Set-Cookie', 'a=1', 'Location', '/', 'Set-Cookie', 'b=2', 'set-cookie', 'c=3'],
      ['Location', '/', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'set-cookie', 'c=3'],
    ],
    [
      'names compare case-insensitively and keep their case',
      ['content-type', 'text/html', 'ETAG', '"x"', 'x-a', '1', 'X-A', '2'],
      ['ETAG', '"x"', 'content-type', 'text/html', 'x-a', '1', 'X-A', '2'],
    ],
  ])('%s', (_, input, expected) => {
    const headers = [...input]
    rearrange(headers)
    expect(headers).toEqual(expected)
  })

  it.each(responseForms(200, ['X-Z', 'z', 'Content-Type', 'text/plain', 'Server', 'tsgi'], ['body']))(
    'works on every response form (%s)',
    async (_, app) => {
      const seen: HeaderList[] = []
      const spy = rearrangeHeaders()(app)
      const wrapped: App = async (env) => {
        const res = await spy(env)
        if (typeof res !== 'function') seen.push(res[1])
        else
          return (respond) =>
            res(((r: Triple | [number, HeaderList]) => {
              seen.push(r[1])
              return respond(r as Triple)
            }) as typeof respond)
        return res
      }
      await testApp(wrapped, async (fetch) => {
        const res = await fetch('/')
        expect(await res.text()).toBe('body')
      })
      expect(seen).toEqual([['Server', 'tsgi', 'Content-Type', 'text/plain', 'X-Z', 'z']])
    },
  )

  it('rejects options', () => {
    expect(() => rearrangeHeaders({ order: [] } as never)).toThrow("RearrangeHeaders: unknown option 'order'")
  })
})
