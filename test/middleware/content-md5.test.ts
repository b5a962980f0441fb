import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { contentMd5 } from '../../middleware/content-md5.js'
import { fileBody } from '../../src/body.js'
import { headerGet } from '../../src/headers.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, Body, HeaderList } from '../../src/types.js'
import { FORMS, type Form, respondIn } from './forms.js'

const md5Of = async (body: Body, headers: HeaderList = [], status = 200) => {
  const app: App = contentMd5()(() => [status, [...headers], body])
  return headerGet((await runResponse(app(requestEnv()))).headers, 'Content-MD5')
}

describe('ContentMD5', () => {
  it.each(FORMS)('%s body', async (form: Form) => {
    const app = contentMd5()(() => respondIn(form, 200, ['Content-Type', 'text/plain'], ['Hello ', 'World']))
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      // RFC 1864: base64 of the 128-bit digest.
      expect(res.headers.get('Content-MD5')).toBe(form === 'array' ? 'sQqNsWTgdUEFt6mb5y4/5Q==' : null)
      expect(await res.text()).toBe('Hello World')
    })
  })

  it('hashes the bytes of strings and byte chunks alike', async () => {
    const expected = createHash('md5').update(Buffer.from('añb€')).digest('base64')
    expect(await md5Of(['añ', new TextEncoder().encode('b€')])).toBe(expected)
    expect(await md5Of([])).toBe('1B2M2Y8AsgTpgAmY7PhCfg==')
  })

  it('keeps a Content-MD5 the app set', async () => {
    expect(await md5Of(['x'], ['Content-MD5', 'abc'])).toBe('abc')
  })

  it.each([100, 204, 304])('adds nothing to a %i', async (status) => {
    expect(await md5Of([], [], status)).toBeUndefined()
  })

  it('adds nothing to a file body (it is not read)', async () => {
    const res = await contentMd5()(() => [200, [], fileBody('/nonexistent/never-read')])(requestEnv())
    expect(typeof res !== 'function' && res[1]).toEqual([])
  })

  it('rejects options with a TypeError', () => {
    expect(() => contentMd5({ x: 1 } as never)).toThrow(/ContentMD5: unknown option 'x'/)
    expect(() => contentMd5([] as never)).toThrow(TypeError)
  })
})
