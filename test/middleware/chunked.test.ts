import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { chunked } from '../../middleware/chunked.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { AppResult, Chunk, HeaderList } from '../../src/types.js'
import { FORMS, type Form, respondIn } from './forms.js'

/** Sends a raw request and resolves with everything the server sent back (it closes after). */
function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request))
    const parts: Buffer[] = []
    socket.on('data', (d: Buffer) => parts.push(d))
    socket.on('end', () => resolve(Buffer.concat(parts).toString('latin1')))
    socket.on('error', reject)
  })
}

// Plack's t/Plack-Middleware/chunked.t: the same bodies over HTTP/1.1 and HTTP/1.0, through a
// real server, plus a writer response.
const BODIES: Chunk[][] = [['Hello World'], ['Hello ', 'World'], ['Hello ', '', 'World']]
const CASES = FORMS.flatMap((form) => BODIES.map((body) => [form, body] as [Form, Chunk[]]))

describe('Chunked: Plack chunked.t', () => {
  it.each(CASES)('%s body %j is chunked on HTTP/1.1, not on HTTP/1.0', async (form, chunks) => {
    const app = chunked()(() => respondIn(form, 200, [], chunks))
    await testApp(
      app,
      async (fetch, { url }) => {
        const res = await fetch('/')
        expect(res.headers.get('Transfer-Encoding')).toBe('chunked')
        expect(res.headers.get('Content-Length')).toBeNull()
        expect(await res.text()).toBe('Hello World')

        const raw11 = await rawRequest(url, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
        expect(raw11).toMatch(/^HTTP\/1\.1 200 /)
        expect(raw11).toMatch(/\r\ntransfer-encoding: chunked\r\n/i)
        expect(raw11).toMatch(/\r\n0\r\n\r\n$/)

        const raw10 = await rawRequest(url, 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n')
        expect(raw10).toMatch(/^HTTP\/1\.[01] 200 /)
        expect(raw10).not.toMatch(/transfer-encoding/i)
        expect(raw10.endsWith('\r\n\r\nHello World')).toBe(true)
      },
      { impl: 'Server' },
    )
  })
})

describe('Chunked: when it applies', () => {
  const headersOf = async (result: AppResult, env: Record<string, unknown> = {}) =>
    (await runResponse(chunked()(() => result)(requestEnv(env)))).headers

  it.each(FORMS)('marks a %s response and leaves its body untouched', async (form) => {
    const body = ['a', 'b']
    const result = respondIn(form, 200, ['Content-Type', 'text/plain'], body)
    const res = await runResponse(chunked()(() => result)(requestEnv()))
    expect(res.headers).toEqual(['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked'])
    expect(res.body).toBe('ab')
    if (form === 'array') expect(res.raw).toBe((result as [number, HeaderList, Chunk[]])[2])
  })

  it.each(['HTTP/1.0', 'HTTP/0.9', 'HTTP/2', 'HTTP/3'])('leaves %s responses alone', async (protocol) => {
    expect(await headersOf([200, [], ['x']], { SERVER_PROTOCOL: protocol })).toEqual([])
  })

  it.each([101, 204, 304])('leaves a %i alone', async (status) => {
    expect(await headersOf([status, [], []])).toEqual([])
  })

  it.each<[HeaderList]>([[['Content-Length', '1']], [['Transfer-Encoding', 'chunked']]])(
    'leaves %j alone',
    async (headers) => {
      expect(await headersOf([200, [...headers], ['x']])).toEqual(headers)
    },
  )

  it('rejects options with a TypeError', () => {
    expect(() => chunked({ x: 1 } as never)).toThrow(/Chunked: unknown option 'x'/)
    expect(() => chunked('x' as never)).toThrow(TypeError)
  })
})
