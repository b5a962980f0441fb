import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../../src/http-error.js'
import { TsgiRequest } from '../../src/request.js'
import { requestEnv } from '../../src/testing/index.js'

const FORM = 'application/x-www-form-urlencoded'

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise
    return undefined
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError)
    return (err as HttpError).status
  }
}

/** Reads an input stream whole. */
async function drain(input: AsyncIterable<Uint8Array | string>): Promise<string> {
  const parts: Buffer[] = []
  for await (const chunk of input) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts).toString('utf8')
}

describe('urlencoded bodies', () => {
  it('parses body parameters and merges them after the query', async () => {
    const env = requestEnv({
      method: 'POST',
      CONTENT_TYPE: `${FORM}; charset=UTF-8`,
      QUERY_STRING: 'a=q&z=1',
      body: 'a=b1&a=b2&name=J%C3%B6+Doe;bad=%zz',
    })
    const req = new TsgiRequest(env)
    const body = await req.bodyParameters()
    expect(body.getAll('a')).toEqual(['b1', 'b2'])
    expect(body.get('name')).toBe('Jö Doe')
    expect(body.get('bad')).toBe('%zz')
    const all = await req.parameters()
    expect(all.getAll('a')).toEqual(['q', 'b1', 'b2'])
    expect(await req.param('a')).toBe('b2')
    expect(await req.param('z')).toBe('1')
    expect(await req.param()).toEqual(['a', 'z', 'name', 'bad'])
    expect((await req.uploads()).size).toBe(0)
  })

  it('buffers the input: tsgi.input is re-readable and tsgix.input.buffered is set', async () => {
    const env = requestEnv({ method: 'POST', CONTENT_TYPE: FORM, body: 'x=1&y=2' })
    const original = env['tsgi.input']
    await new TsgiRequest(env).bodyParameters()
    expect(env['tsgix.input.buffered']).toBe(true)
    expect(env['tsgi.input']).not.toBe(original)
    expect(await drain(env['tsgi.input'])).toBe('x=1&y=2')
    expect(await drain(env['tsgi.input'])).toBe('x=1&y=2')
    expect(Buffer.from(env['tsgix.request.raw_body']!).toString()).toBe('x=1&y=2')
    expect(await new TsgiRequest(env).text()).toBe('x=1&y=2')
  })

  it('other media types have no body parameters and leave the input unread', async () => {
    const env = requestEnv({ method: 'POST', CONTENT_TYPE: 'application/json', body: '{"a":1}' })
    const req = new TsgiRequest(env)
    expect((await req.bodyParameters()).size).toBe(0)
    expect(env['tsgix.input.buffered']).toBeUndefined()
    expect(await req.json()).toEqual({ a: 1 })
  })
})

describe('one parse per env', () => {
  it('two TsgiRequest objects on one env share the body, read once', async () => {
    let reads = 0
    const input = Readable.from(
      (async function* () {
        reads++
        yield Buffer.from('k=v')
      })(),
    )
    const env = requestEnv({ CONTENT_TYPE: FORM, CONTENT_LENGTH: '3', 'tsgi.input': input })
    const [a, b] = await Promise.all([
      new TsgiRequest(env).bodyParameters(),
      new TsgiRequest(env).bodyParameters(),
    ])
    expect(a).toBe(b)
    expect(a.get('k')).toBe('v')
    expect(await new TsgiRequest(env).text()).toBe('k=v')
    expect(reads).toBe(1)
  })

  it('concurrent raw reads share one read', async () => {
    const env = requestEnv({
      method: 'POST',
      CONTENT_TYPE: 'text/plain',
      body: [Buffer.from('ab'), Buffer.from('cd')],
    })
    const [x, y] = await Promise.all([new TsgiRequest(env).text(), new TsgiRequest(env).bytes()])
    expect(x).toBe('abcd')
    expect(Buffer.from(y).toString()).toBe('abcd')
  })
})

describe('JSON, text and bytes', () => {
  it('json parses the body', async () => {
    const req = new TsgiRequest(
      requestEnv({ method: 'POST', CONTENT_TYPE: 'application/json', body: '{"a":[1,"é"]}' }),
    )
    expect(await req.json()).toEqual({ a: [1, 'é'] })
  })

  it.each(['{bad', '', '{"a":1}}'])('json of %j is HttpError 400', async (text) => {
    const req = new TsgiRequest(requestEnv({ method: 'POST', CONTENT_TYPE: 'application/json', body: text }))
    expect(await statusOf(req.json())).toBe(400)
  })

  it('text honours the charset parameter', async () => {
    const req = new TsgiRequest(
      requestEnv({
        method: 'POST',
        CONTENT_TYPE: 'text/plain; charset=iso-8859-1',
        body: Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      }),
    )
    expect(await req.text()).toBe('café')
  })

  it('bytes, content, rawBody and arrayBuffer return copies of the body', async () => {
    const req = new TsgiRequest(
      requestEnv({ method: 'POST', CONTENT_TYPE: 'application/octet-stream', body: Buffer.from([1, 2, 3]) }),
    )
    const bytes = await req.bytes()
    bytes[0] = 9
    expect([...(await req.content())]).toEqual([1, 2, 3])
    expect([...(await req.rawBody())]).toEqual([1, 2, 3])
    expect([...new Uint8Array(await req.arrayBuffer())]).toEqual([1, 2, 3])
  })

  it('reads a chunked body (no Content-Length)', async () => {
    const env = requestEnv({
      method: 'POST',
      CONTENT_TYPE: 'text/plain',
      HTTP_TRANSFER_ENCODING: 'chunked',
      body: 'streamed',
    })
    delete env.CONTENT_LENGTH
    expect(await new TsgiRequest(env).text()).toBe('streamed')
  })

  it('a request without body headers has an empty body', async () => {
    const req = new TsgiRequest(requestEnv())
    expect(await req.text()).toBe('')
    expect((await req.bodyParameters()).size).toBe(0)
  })
})

describe('limits and broken bodies', () => {
  it('a Content-Length over maxBodySize is 413 before reading', async () => {
    let pulled = false
    const input = Readable.from(
      (async function* () {
        pulled = true
        yield Buffer.alloc(10)
      })(),
    )
    const env = requestEnv({ CONTENT_TYPE: FORM, CONTENT_LENGTH: '11', 'tsgi.input': input })
    expect(await statusOf(new TsgiRequest(env, { maxBodySize: 10 }).bodyParameters())).toBe(413)
    expect(pulled).toBe(false)
  })

  it('a body of exactly maxBodySize is read', async () => {
    const req = new TsgiRequest(
      requestEnv({ method: 'POST', CONTENT_TYPE: 'text/plain', body: 'x'.repeat(10) }),
      { maxBodySize: 10 },
    )
    expect(await req.text()).toBe('x'.repeat(10))
  })

  it('a chunked body growing past maxBodySize is 413, and stays failed', async () => {
    const env = requestEnv({
      method: 'POST',
      CONTENT_TYPE: 'text/plain',
      HTTP_TRANSFER_ENCODING: 'chunked',
      body: [Buffer.alloc(6), Buffer.alloc(6)],
    })
    delete env.CONTENT_LENGTH
    expect(await statusOf(new TsgiRequest(env, { maxBodySize: 10 }).text())).toBe(413)
    expect(await statusOf(new TsgiRequest(env).text())).toBe(413)
  })

  it('the default maxBodySize is 1 MiB', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61)
    expect(
      await statusOf(
        new TsgiRequest(requestEnv({ method: 'POST', CONTENT_TYPE: 'text/plain', body: big })).text(),
      ),
    ).toBe(413)
    const fits = Buffer.alloc(1024 * 1024, 0x61)
    expect(
      (await new TsgiRequest(requestEnv({ method: 'POST', CONTENT_TYPE: 'text/plain', body: fits })).bytes())
        .byteLength,
    ).toBe(1024 * 1024)
  })

  it.each([
    ['shorter than Content-Length', '20'],
    ['longer than Content-Length', '3'],
    ['an invalid Content-Length', '1e3'],
  ])('a body %s is HttpError 400', async (_label, length) => {
    const env = requestEnv({ method: 'POST', CONTENT_TYPE: FORM, CONTENT_LENGTH: length, body: 'a=1&b=2' })
    expect(await statusOf(new TsgiRequest(env).bodyParameters())).toBe(400)
  })

  it('an input that fails mid-body is HttpError 400', async () => {
    const input = Readable.from(
      (async function* () {
        yield Buffer.from('a=')
        throw new Error('aborted')
      })(),
    )
    const env = requestEnv({ CONTENT_TYPE: FORM, CONTENT_LENGTH: '10', 'tsgi.input': input })
    expect(await statusOf(new TsgiRequest(env).bodyParameters())).toBe(400)
  })
})
