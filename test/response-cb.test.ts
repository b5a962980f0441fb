import { describe, expect, it } from 'vitest'
import { readBody } from '../src/body.js'
import { headerGet, headerSet } from '../src/headers.js'
import { type BodyFilter, lengthPreserving, type ResponseCallback, responseCb } from '../src/response-cb.js'
import type { AppResult, Body, Chunk, Head, Triple, Writer } from '../src/types.js'

const upper: BodyFilter = (chunk) => (chunk === null ? '!' : String(chunk).toUpperCase())
const asyncUpper: BodyFilter = async (chunk) => {
  await new Promise((r) => setImmediate(r))
  return chunk === null ? '!' : String(chunk).toUpperCase()
}

async function* gen(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks
}

/** Runs any response form the way a server would, and returns status, headers and the body text. */
async function run(
  res: AppResult | PromiseLike<AppResult>,
): Promise<{ status: number; headers: string[]; body: string }> {
  const r = await res
  if (typeof r !== 'function') return { status: r[0], headers: r[1], body: (await readBody(r[2])).toString() }
  return new Promise((resolve, reject) => {
    let head: Head | undefined
    const parts: string[] = []
    const respond = ((x: Triple | Head) => {
      if (x.length >= 3) {
        const t = x as Triple
        readBody(t[2]).then((b) => resolve({ status: t[0], headers: t[1], body: b.toString() }), reject)
        return undefined
      }
      head = x as Head
      const writer: Writer = {
        write: async (c: Chunk) => {
          parts.push(String(c))
        },
        close: async () => resolve({ status: head![0], headers: head![1], body: parts.join('') }),
      }
      return writer
    }) as Parameters<Extract<AppResult, (...a: never[]) => unknown>>[0]
    Promise.resolve(r(respond)).catch(reject)
  })
}

const addHeader: ResponseCallback = (res) => {
  headerSet(res[1], 'X-Seen', String(res.length >= 3 ? 'triple' : 'writer'))
}

const forms: [string, () => AppResult | PromiseLike<AppResult>][] = [
  ['array body', () => [200, ['Content-Length', '5'], ['he', 'llo']]],
  ['iterable body', () => [200, ['Content-Length', '5'], gen('he', 'llo')]],
  ['promise of a triple', () => Promise.resolve<Triple>([200, ['Content-Length', '5'], ['hello']])],
  ['delayed triple', () => (respond) => respond([200, ['Content-Length', '5'], ['hel', 'lo']])],
  [
    'delayed writer',
    () => async (respond) => {
      const w = respond([200, ['Content-Length', '5']])
      await w.write('he')
      await w.write('llo')
      await w.close()
    },
  ],
  [
    'delayed writer, writes not awaited',
    () => (respond) => {
      const w = respond([200, ['Content-Length', '5']])
      void w.write('he')
      void w.write('llo')
      void w.close()
    },
  ],
]

describe('responseCb', () => {
  it.each(forms)('edits headers on a %s', async (_name, make) => {
    const out = await run(responseCb(make(), addHeader))
    expect(out.status).toBe(200)
    expect(headerGet(out.headers, 'X-Seen')).toBeDefined()
    expect(headerGet(out.headers, 'Content-Length')).toBe('5')
    expect(out.body).toBe('hello')
  })

  it.each(forms)('filters the body of a %s and removes Content-Length', async (_name, make) => {
    const out = await run(responseCb(make(), () => upper))
    expect(out.body).toBe('HELLO!')
    expect(headerGet(out.headers, 'Content-Length')).toBeUndefined()
  })

  it.each(forms)('keeps order with an async filter on a %s', async (_name, make) => {
    const out = await run(responseCb(make(), () => asyncUpper))
    expect(out.body).toBe('HELLO!')
  })

  it.each(forms)('waits for an async callback on a %s', async (_name, make) => {
    const out = await run(
      responseCb(make(), async (res) => {
        await new Promise((r) => setImmediate(r))
        res[0] = 201
        return upper
      }),
    )
    expect(out.status).toBe(201)
    expect(out.body).toBe('HELLO!')
  })

  it('filters an array body in place synchronously, as Plack does', () => {
    const res = responseCb([200, [], ['a', 'b']], () => (c) => (c === null ? undefined : `<${c}>`)) as Triple
    expect(res[2]).toEqual(['<a>', '<b>'])
  })

  it('lets the filter drop chunks', async () => {
    const drop: BodyFilter = (c) => (c === 'x' ? null : c)
    expect((await run(responseCb([200, [], gen('a', 'x', 'b')], () => drop))).body).toBe('ab')
    expect((await run(responseCb([200, [], ['a', 'x', 'b']], () => drop))).body).toBe('ab')
  })

  it('lets the callback replace the body of a triple', async () => {
    const out = await run(
      responseCb([404, [], ['gone']], (res) => {
        res[2] = ['replaced']
      }),
    )
    expect(out.body).toBe('replaced')
  })

  it('does not read an iterable body before the consumer does', async () => {
    let pulled = 0
    async function* counting(): AsyncGenerator<string> {
      for (let i = 0; i < 3; i++) {
        pulled++
        yield String(i)
      }
    }
    const res = (await responseCb([200, [], counting()], () => upper)) as Triple
    expect(pulled).toBe(0)
    const it = (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    expect((await it.next()).value).toBe('0')
    expect(pulled).toBe(1)
  })

  it('passes return() through to the inner body so its finally runs', async () => {
    let finalized = false
    async function* inner(): AsyncGenerator<string> {
      try {
        for (let i = 0; ; i++) yield String(i)
      } finally {
        finalized = true
      }
    }
    const res = (await responseCb([200, [], inner()], () => upper)) as Triple
    const it = (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    await it.next()
    await it.return?.()
    expect(finalized).toBe(true)
  })

  it('passes writer rejections to the app', async () => {
    const delayed = responseCb(
      async (respond: (h: Head) => Writer) => {
        const w = respond([200, []])
        await w.write('x')
      },
      () => upper,
    ) as (r: unknown) => Promise<void>
    const failing = () => ({
      write: () => Promise.reject(new Error('aborted: client-disconnected')),
      close: () => Promise.resolve(),
    })
    await expect(delayed(failing)).rejects.toThrow('client-disconnected')
  })

  it('surfaces a failing async callback as a rejection of the delayed response', async () => {
    const delayed = responseCb(
      (respond) => respond([200, [], ['x']]),
      async () => {
        throw new Error('cb failed')
      },
    ) as (r: unknown) => Promise<void>
    await expect(delayed(() => undefined)).rejects.toThrow('cb failed')
  })

  it('leaves a body-less head alone when no filter is returned', async () => {
    let got: Body | undefined
    const out = await run(
      responseCb(
        (respond) => {
          const w = respond([204, []])
          void w.close()
        },
        (res) => {
          got = res[2]
        },
      ),
    )
    expect(got).toBeUndefined()
    expect(out.status).toBe(204)
  })
})

describe('lengthPreserving', () => {
  it.each(forms)('keeps Content-Length on a %s when the filter is marked', async (_name, make) => {
    let seen = 0
    const count = lengthPreserving((chunk) => {
      if (chunk !== null) seen += String(chunk).length
      return chunk
    })
    const out = await run(responseCb(make(), () => count))
    expect(headerGet(out.headers, 'Content-Length')).toBe('5')
    expect(out.body).toBe('hello')
    expect(seen).toBe(5)
  })
})
