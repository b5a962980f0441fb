import { describe, expect, it } from 'vitest'
import { rescue } from '../src/rescue.js'
import { requestEnv } from '../src/testing/index.js'
import type { AppResult, Head, Responder, Triple, Writer } from '../src/types.js'

/** Runs a result to the first thing given to respond. */
async function settle(result: AppResult | Promise<AppResult>): Promise<Triple | Head> {
  const res = await result
  if (typeof res !== 'function') return res
  return new Promise((resolve, reject) => {
    const sink: Writer = { write: async () => {}, close: async () => {} }
    const respond = ((r: Triple | Head) => {
      resolve(r)
      return r.length >= 3 ? undefined : sink
    }) as Responder
    Promise.resolve(res(respond)).catch(reject)
  })
}

const answer = (err: unknown): Triple => [500, [], [String((err as Error).message)]]

describe('rescue', () => {
  it.each([
    [
      'a throw',
      () => {
        throw new Error('a')
      },
    ],
    [
      'a rejection',
      async () => {
        throw new Error('a')
      },
    ],
    [
      'a throw in a delayed response',
      () => () => {
        throw new Error('a')
      },
    ],
    [
      'a rejection in a delayed response',
      () => async () => {
        throw new Error('a')
      },
    ],
  ])('answers %s with the handler', async (_, app) => {
    expect(await settle(rescue(app as never, requestEnv(), answer))).toEqual([500, [], ['a']])
  })

  it('lets the handler answer with a delayed response', async () => {
    const res = rescue(
      () => {
        throw new Error('x')
      },
      requestEnv(),
      () => (respond) => respond([404, [], ['later']]),
    )
    expect(await settle(res)).toEqual([404, [], ['later']])
  })

  it('passes on what the handler throws', async () => {
    const res = rescue(
      async () => {
        throw new Error('x')
      },
      requestEnv(),
      (err) => {
        throw err
      },
    )
    await expect(res).rejects.toThrow('x')
  })

  it('passes on an error raised after the head was sent', async () => {
    const res = await rescue(
      () => async (respond) => {
        respond([200, []])
        throw new Error('late')
      },
      requestEnv(),
      answer,
    )
    if (typeof res !== 'function') throw new Error('expected a delayed response')
    const sink: Writer = { write: async () => {}, close: async () => {} }
    await expect(Promise.resolve(res((() => sink) as Responder))).rejects.toThrow('late')
  })

  it('leaves a good response alone', async () => {
    expect(await settle(rescue(() => [200, [], ['ok']], requestEnv(), answer))).toEqual([200, [], ['ok']])
  })
})
