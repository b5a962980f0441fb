import { describe, expect, it } from 'vitest'
import { bufferedStreaming } from '../../middleware/buffered-streaming.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, AppResult, Env } from '../../src/types.js'
import { callTriple, FORMS, type Form, respondIn } from './forms.js'

/** An env whose tsgi.errors resolves `written` with the first message. */
function errorEnv(): { env: Env; written: Promise<string> } {
  let write: (m: string) => void = () => {}
  const written = new Promise<string>((resolve) => {
    write = resolve
  })
  return { env: requestEnv({ 'tsgi.errors': { write } }), written }
}

// Plack's t/Plack-Middleware/bufferedstreaming.t: a caller that cannot stream.
describe('BufferedStreaming: Plack bufferedstreaming.t', () => {
  it.each<[string, App]>([
    ['delayed with a triple', () => (respond) => respond([200, ['Content-Type', 'text/plain'], ['OK']])],
    [
      'delayed with a writer',
      () => (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        writer.write('O')
        writer.write('K')
        writer.close()
      },
    ],
  ])('%s', async (_, app) => {
    const res = await callTriple(bufferedStreaming()(app), requestEnv({ 'tsgi.streaming': false }))
    expect(res[1]).toEqual(['Content-Type', 'text/plain'])
    expect(Array.isArray(res[2])).toBe(true)
    expect((res[2] as string[]).join('')).toBe('OK')
  })
})

describe('BufferedStreaming: every response form', () => {
  it.each(FORMS)('%s body with force: a finished response', async (form: Form) => {
    const app = bufferedStreaming({ force: true })(() => respondIn(form, 201, ['X-A', '1'], ['Hel', 'lo']))
    const res = await callTriple(app, requestEnv())
    expect(res[0]).toBe(201)
    expect(res[1]).toEqual(['X-A', '1'])
    if (form !== 'iterable') expect(res[2]).toEqual(['Hel', 'lo'])
    expect((await runResponse(res)).body).toBe('Hello')
    await testApp(app, async (fetch) => {
      const got = await fetch('/')
      expect(got.status).toBe(201)
      expect(got.headers.get('X-A')).toBe('1')
      expect(await got.text()).toBe('Hello')
    })
  })

  it('passes a delayed response through when the caller streams and force is off', async () => {
    const delayed: AppResult = respondIn('writer', 200, [], ['x'])
    const res = await bufferedStreaming()(() => delayed)(requestEnv())
    expect(res).toBe(delayed)
  })

  it('tells the app the caller streams', async () => {
    const seen: unknown[] = []
    const app = bufferedStreaming()((env) => {
      seen.push(env['tsgi.streaming'])
      return [200, [], []]
    })
    await app(requestEnv({ 'tsgi.streaming': false }))
    expect(seen).toEqual([true])
  })

  it('waits for a writer closed later, and copies chunks the app reuses', async () => {
    let finish: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      finish = resolve
    })
    const app = bufferedStreaming({ force: true })(() => (respond) => {
      const writer = respond([200, []])
      const buf = new TextEncoder().encode('ab')
      // Not awaited: the delayed function returns before the body is complete.
      void (async () => {
        await writer.write(buf)
        buf.set([120, 121])
        await gate
        await writer.write(buf)
        await writer.close()
      })()
    })
    const pending = callTriple(app, requestEnv())
    finish()
    const res = await pending
    expect((await runResponse(res)).body).toBe('abxy')
  })

  it('rejects when the app fails before responding', async () => {
    const app = bufferedStreaming({ force: true })(() => async () => {
      throw new Error('broken')
    })
    await expect(callTriple(app, requestEnv())).rejects.toThrow('broken')
  })

  it('reports a failure after the response to tsgi.errors', async () => {
    const { env, written } = errorEnv()
    const app = bufferedStreaming({ force: true })(() => async (respond) => {
      respond([200, [], ['done']])
      throw new Error('late')
    })
    expect((await callTriple(app, env))[2]).toEqual(['done'])
    expect(await written).toMatch(
      /BufferedStreaming: the delayed response failed after responding: Error: late/,
    )
  })

  it('rejects the response and further writes when the request is aborted', async () => {
    const controller = new AbortController()
    let writeAfterAbort: Promise<void> | undefined
    const app = bufferedStreaming({ force: true })(() => async (respond) => {
      const writer = respond([200, []])
      await writer.write('a')
      controller.abort('client-disconnected')
      writeAfterAbort = writer.write('b')
    })
    const res = callTriple(app, requestEnv({ 'tsgix.signal': controller.signal }))
    await expect(res).rejects.toThrow(/BufferedStreaming: request aborted \(client-disconnected\)/)
    await expect(writeAfterAbort).rejects.toThrow(/aborted/)
  })

  it('rejects a second call of the responder', async () => {
    const app = bufferedStreaming({ force: true })(() => (respond) => {
      respond([200, [], ['a']])
      respond([200, [], ['b']])
    })
    const { env, written } = errorEnv()
    expect((await callTriple(app, env))[2]).toEqual(['a'])
    expect(await written).toMatch(/BufferedStreaming: the responder was called more than once/)
  })

  it.each<[unknown, RegExp]>([
    [{ force: 1 }, /BufferedStreaming: option 'force' must be a boolean, got 1/],
    [{ forced: true }, /BufferedStreaming: unknown option 'forced'/],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => bufferedStreaming(options as never)).toThrow(TypeError)
    expect(() => bufferedStreaming(options as never)).toThrow(message)
  })
})
