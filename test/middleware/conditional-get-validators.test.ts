import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conditionalGet } from '../../middleware/conditional-get.js'
import { requestEnv, runResponse } from '../../src/testing/index.js'
import type { App, HeaderList } from '../../src/types.js'

const date = 'Wed, 23 Sep 2009 13:36:33 GMT'

describe('ConditionalGET: validators', () => {
  const call = async (headers: HeaderList, env: Record<string, unknown>, status = 200) => {
    const app: App = conditionalGet()(() => [status, [...headers], ['x']])
    return (await runResponse(app(requestEnv(env)))).status
  }

  it.each<[string, string, number]>([
    ['"a"', '"a"', 304],
    ['"a"', 'W/"a"', 304],
    ['W/"a"', '"a"', 304],
    ['W/"a"', 'W/"a"', 304],
    ['"a"', '"b"', 200],
    ['"a"', '"b", "a"', 304],
    ['"a"', '"b",W/"a" , "c"', 304],
    ['"a,b"', '"a", "a,b"', 304],
    ['"a,b"', '"a"', 200],
    ['"a"', '*', 304],
    ['"a"', ' * ', 304],
    ['"a"', '"A"', 200],
    ['"a"', 'a', 200],
    ['"a"', '', 200],
    ['"a"', ',,,', 200],
    ['"a"', '"a', 200],
  ])('ETag %s, If-None-Match %s → %i', async (etag, ifNoneMatch, status) => {
    expect(await call(['ETag', etag], { HTTP_IF_NONE_MATCH: ifNoneMatch })).toBe(status)
  })

  it('answers 304 to If-None-Match: * even without an ETag (a representation exists)', async () => {
    expect(await call([], { HTTP_IF_NONE_MATCH: '*' })).toBe(304)
  })

  it.each<[string, string, number]>([
    ['later If-Modified-Since', 'Wed, 23 Sep 2009 13:36:34 GMT', 304],
    ['same instant, RFC 850 form', 'Wednesday, 23-Sep-09 13:36:33 GMT', 304],
    ['same instant, asctime form', 'Wed Sep 23 13:36:33 2009', 304],
    ['earlier asctime', 'Wed Sep 23 13:36:32 2009', 200],
    ['an invalid date', 'yesterday', 200],
    ['an empty value', '', 200],
  ])('If-Modified-Since: %s → %i', async (_, since, status) => {
    expect(await call(['Last-Modified', date], { HTTP_IF_MODIFIED_SINCE: since })).toBe(status)
  })

  it('ignores an invalid Last-Modified', async () => {
    expect(await call(['Last-Modified', 'soon'], { HTTP_IF_MODIFIED_SINCE: date })).toBe(200)
  })

  it('ignores If-Modified-Since when If-None-Match is present', async () => {
    expect(
      await call(['ETag', '"a"', 'Last-Modified', date], {
        HTTP_IF_NONE_MATCH: '"b"',
        HTTP_IF_MODIFIED_SINCE: date,
      }),
    ).toBe(200)
  })

  it.each([201, 206, 404, 500])('leaves a %i response alone', async (status) => {
    expect(await call(['ETag', '"a"'], { HTTP_IF_NONE_MATCH: '"a"' }, status)).toBe(status)
  })

  it.each(['HEAD', 'GET'])('applies to %s', async (method) => {
    expect(await call(['ETag', '"a"'], { REQUEST_METHOD: method, HTTP_IF_NONE_MATCH: '"a"' })).toBe(304)
  })

  it.each(['POST', 'PUT', 'DELETE'])('leaves %s alone', async (method) => {
    expect(await call(['ETag', '"a"'], { REQUEST_METHOD: method, HTTP_IF_NONE_MATCH: '"a"' })).toBe(200)
  })

  it('never throws on arbitrary validator headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (inm, ims, etag) => {
        const withInm = await call(['ETag', etag, 'Last-Modified', date], { HTTP_IF_NONE_MATCH: inm })
        const withIms = await call(['ETag', etag, 'Last-Modified', date], { HTTP_IF_MODIFIED_SINCE: ims })
        expect([200, 304]).toContain(withInm)
        expect([200, 304]).toContain(withIms)
        if (inm === etag && etag.trim() !== '' && !etag.includes(',') && !etag.includes('"')) {
          expect(withInm).toBe(304)
        }
      }),
    )
  })
})
