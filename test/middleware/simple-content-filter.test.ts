import { describe, expect, it } from 'vitest'
import { contentLength } from '../../middleware/content-length.js'
import { simpleContentFilter } from '../../middleware/simple-content-filter.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { Chunk, HeaderList } from '../../src/types.js'
import { FORMS, type Form, respondIn } from './forms.js'

const fooBar = (text: string) => text.replaceAll('Foo', 'FooBar')

// Plack's t/Plack-Middleware/simple_content_filter.t: ContentLength outside recounts.
describe('SimpleContentFilter: Plack simple_content_filter.t', () => {
  it('filters the body and the outer ContentLength recounts it', async () => {
    const app = contentLength()(
      simpleContentFilter({ filter: fooBar })(() => [
        200,
        ['Content-Type', 'text/plain', 'Content-Length', '9'],
        ['Hello ', 'Foo'],
      ]),
    )
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(await res.text()).toBe('Hello FooBar')
      expect(res.headers.get('Content-Length')).toBe('12')
    })
  })
})

describe('SimpleContentFilter: every response form', () => {
  it.each(FORMS)('%s body', async (form: Form) => {
    const seen: string[] = []
    const app = simpleContentFilter({
      filter: (text) => {
        seen.push(text)
        return text.toUpperCase()
      },
    })(() =>
      respondIn(
        form,
        200,
        ['Content-Type', 'text/html; charset=UTF-8', 'Content-Length', '10'],
        ['<p>', 'Foo', '</p>'],
      ),
    )
    const res = await runResponse(app(requestEnv()))
    expect(res.body).toBe('<P>FOO</P>')
    expect(res.headers).toEqual(['Content-Type', 'text/html; charset=UTF-8'])
    expect(seen).toEqual(['<p>', 'Foo', '</p>'])
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toBe('<P>FOO</P>')
    })
  })
})

describe('SimpleContentFilter: text decoding', () => {
  const filtered = async (headers: HeaderList, chunks: Chunk[], filter = (t: string) => t) => {
    const seen: string[] = []
    const app = simpleContentFilter({
      filter: (text) => {
        seen.push(text)
        return filter(text)
      },
    })(() => respondIn('iterable', 200, headers, chunks))
    const res = await runResponse(app(requestEnv()))
    return { seen, body: res.body, headers: res.headers }
  }

  it('reassembles a UTF-8 character split across chunks', async () => {
    const bytes = new TextEncoder().encode('aé€b')
    const chunks = [bytes.slice(0, 2), bytes.slice(2, 4), bytes.slice(4)]
    const { seen, body } = await filtered(['Content-Type', 'text/plain'], chunks, (t) =>
      t.replaceAll('€', 'EUR'),
    )
    expect(seen.join('')).toBe('aé€b')
    expect(seen.every((t) => !t.includes('\uFFFD'))).toBe(true)
    expect(body).toBe('aéEURb')
  })

  it('flushes an incomplete sequence at the end as U+FFFD', async () => {
    const { seen } = await filtered(['Content-Type', 'text/plain'], ['ok', new Uint8Array([0xe2, 0x82])])
    expect(seen).toEqual(['ok', '\uFFFD'])
  })

  it('keeps the bytes of another charset, one character per byte', async () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x46, 0x6f, 0x6f]) // "café Foo" in ISO-8859-1
    const app = simpleContentFilter({ filter: fooBar })(() => [
      200,
      ['Content-Type', 'text/plain; charset=ISO-8859-1'],
      [latin1],
    ])
    const res = await app(requestEnv())
    if (typeof res === 'function') throw new Error('expected a triple')
    const body = Buffer.concat((res[2] as Uint8Array[]).map((c) => Buffer.from(c)))
    expect(body.toString('latin1')).toBe('café FooBar')
    expect(body[3]).toBe(0xe9)
  })

  it.each<[string, HeaderList]>([
    ['no Content-Type', []],
    ['application/json', ['Content-Type', 'application/json']],
    ['image/svg+xml', ['Content-Type', 'image/svg+xml']],
    ['a type merely containing text/', ['Content-Type', 'application/x-text/plain']],
  ])('leaves %s alone, Content-Length included', async (_, headers) => {
    const withLength = [...headers, 'Content-Length', '3']
    const { seen, body, headers: out } = await filtered(withLength, ['Foo'], fooBar)
    expect(seen).toEqual([])
    expect(body).toBe('Foo')
    expect(out).toEqual(withLength)
  })

  it('matches the media type without regard to case', async () => {
    const { body } = await filtered(['content-type', 'TEXT/Plain'], ['Foo'], fooBar)
    expect(body).toBe('FooBar')
  })

  it('does not call the filter for an empty body', async () => {
    const { seen, body } = await filtered(['Content-Type', 'text/plain'], ['', new Uint8Array(0)])
    expect(seen).toEqual([])
    expect(body).toBe('')
  })

  it('fails the response when the filter returns something other than a string', async () => {
    const app = simpleContentFilter({ filter: (() => 42) as unknown as (t: string) => string })(() => [
      200,
      ['Content-Type', 'text/plain'],
      ['x'],
    ])
    await expect(Promise.resolve(app(requestEnv()))).rejects.toThrow(
      /SimpleContentFilter: option 'filter' returned number/,
    )
  })
})

describe('SimpleContentFilter: options', () => {
  it.each<[unknown, RegExp]>([
    [undefined, /SimpleContentFilter: option 'filter' is required/],
    [{}, /SimpleContentFilter: option 'filter' is required/],
    [{ filter: 's/Foo/Bar/' }, /SimpleContentFilter: option 'filter' must be a function/],
    [{ filter: fooBar, types: ['text/*'] }, /SimpleContentFilter: unknown option 'types'/],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => simpleContentFilter(options as never)).toThrow(TypeError)
    expect(() => simpleContentFilter(options as never)).toThrow(message)
  })
})
