/**
 * responseCb under streaming stress: bodies freed when closed unread, backpressure through a
 * filtered writer, and failures of the callback or the filter reaching the caller (the server)
 * in every form, never thrown into the app's callbacks nor left as unhandled rejections.
 */
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BodyFilter, responseCb } from '../src/response-cb.js'
import type { AppResult, Chunk, Delayed, Head, Responder, Triple, Writer } from '../src/types.js'

const boom = () => new Error('filter failed')
const failOn =
  (bad: string): BodyFilter =>
  (chunk) => {
    if (chunk === bad) throw boom()
    return chunk
  }
const nextTurn = () => new Promise<void>((r) => setImmediate(r))

/** A responder whose writer records calls and resolves each write only when the test says. */
function gatedResponder() {
  const log: string[] = []
  const gates: (() => void)[] = []
  let closed = false
  const respond = ((r: Triple | Head) => {
    if (r.length >= 3) {
      log.push('triple')
      return undefined
    }
    return {
      write: (chunk: Chunk) => {
        log.push(`write ${String(chunk)}`)
        return new Promise<void>((resolve) => gates.push(resolve))
      },
      close: async () => {
        closed = true
        log.push('close')
      },
    } satisfies Writer
  }) as Responder
  return { respond, log, gates, isClosed: () => closed }
}

let unhandled: unknown[] = []
const onUnhandled = (err: unknown) => unhandled.push(err)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe('responseCb: iterable bodies', () => {
  it.each([
    ['sync', (c: Chunk | null) => c],
    ['async', async (c: Chunk | null) => c],
  ])('frees a node Readable closed before it was read (%s filter)', async (_n, filter) => {
    const inner = new Readable({ read() {} })
    const res = (await responseCb([200, [], inner], () => filter)) as Triple
    await (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]().return?.()
    expect(inner.destroyed).toBe(true)
  })

  it('cancels a web ReadableStream closed mid-stream and reads no chunk ahead', async () => {
    let pulls = 0
    let cancelled = false
    const inner = new ReadableStream<string>(
      {
        pull(c) {
          pulls++
          c.enqueue(String(pulls))
        },
        cancel() {
          cancelled = true
        },
      },
      { highWaterMark: 0 },
    )
    const res = (await responseCb([200, [], inner], () => (c) => c)) as Triple
    const it = (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    expect((await it.next()).value).toBe('1')
    expect((await it.next()).value).toBe('2')
    expect(pulls).toBeLessThanOrEqual(3)
    await it.return?.()
    expect(cancelled).toBe(true)
  })

  it('hands the same iterator out twice, as a generator would', async () => {
    const res = (await responseCb([200, [], Readable.from(['a', 'b'])], () => (c) => c)) as Triple
    const body = res[2] as AsyncIterable<Chunk>
    expect(body[Symbol.asyncIterator]()).toBe(body[Symbol.asyncIterator]())
  })
})

describe('responseCb: writers', () => {
  it.each([
    ['no filter', undefined],
    ['a sync filter', (c: Chunk | null) => c],
    ['an async filter', async (c: Chunk | null) => c],
  ])('keeps backpressure with %s', async (_n, filter) => {
    const { respond, log, gates } = gatedResponder()
    let writer: Writer | undefined
    const delayed = responseCb(
      ((r) => {
        writer = r([200, []])
      }) as Delayed,
      () => filter,
    ) as Delayed
    void delayed(respond)
    let resolved = false
    const p = writer!.write('a').then(() => {
      resolved = true
    })
    while (log.length === 0) await nextTurn()
    await nextTurn()
    expect(resolved).toBe(false)
    gates[0]!()
    await p
    expect(resolved).toBe(true)
  })

  it('returns a rejected promise, never throws, when the filter throws', async () => {
    const { respond } = gatedResponder()
    let writer: Writer | undefined
    const delayed = responseCb(
      ((r) => {
        writer = r([200, []])
      }) as Delayed,
      () => failOn('x'),
    ) as Delayed
    const ran = Promise.resolve(delayed(respond))
    let write: Promise<void> | undefined
    expect(() => {
      write = writer!.write('x')
    }).not.toThrow()
    await expect(write).rejects.toThrow('filter failed')
    await expect(ran).rejects.toThrow('filter failed')
  })

  it.each([
    ['returns at once', (run: () => void) => run()],
    ['responds after a turn', (run: () => void) => setImmediate(run)],
  ])(
    'a filter failing mid-stream rejects the delayed response (app %s, writes not awaited)',
    async (_n, when) => {
      const { respond, log, gates, isClosed } = gatedResponder()
      const app: Delayed = (r) => {
        when(() => {
          const w = r([200, []])
          void w.write('a')
          void w.write('x')
          void w.write('b')
          void w.close()
        })
      }
      const ran = Promise.resolve((responseCb(app, () => failOn('x')) as Delayed)(respond))
      const settled = ran.then(
        () => 'resolved',
        (err: unknown) => err,
      )
      while (gates.length === 0) await nextTurn()
      gates[0]!()
      expect(await settled).toEqual(boom())
      await nextTurn()
      expect(log).toEqual(['write a'])
      expect(isClosed()).toBe(false)
      expect(unhandled).toEqual([])
    },
  )

  it('a cb throwing in a responder called later rejects the delayed response, not the app', async () => {
    const { respond } = gatedResponder()
    let thrownInApp: unknown
    let writeFailed: unknown
    const app: Delayed = (r) => {
      setImmediate(() => {
        try {
          const w = r([200, []])
          w.write('a').catch((e: unknown) => {
            writeFailed = e
          })
          void w.close()
        } catch (err) {
          thrownInApp = err
        }
      })
    }
    const ran = Promise.resolve(
      (
        responseCb(app, () => {
          throw new Error('cb failed')
        }) as Delayed
      )(respond),
    )
    await expect(ran).rejects.toThrow('cb failed')
    await nextTurn()
    expect(thrownInApp).toBeUndefined()
    expect(writeFailed).toBeInstanceOf(Error)
    expect(unhandled).toEqual([])
  })

  it('a cb throwing for a triple given later rejects the delayed response', async () => {
    const { respond, log } = gatedResponder()
    const app: Delayed = (r) => {
      setImmediate(() => r([200, [], ['a']]))
    }
    const ran = Promise.resolve(
      (
        responseCb(app, () => {
          throw new Error('cb failed')
        }) as Delayed
      )(respond),
    )
    await expect(ran).rejects.toThrow('cb failed')
    expect(log).toEqual([])
  })

  it('an async filter failing on an array body given later rejects the delayed response', async () => {
    const { respond, log } = gatedResponder()
    const app: Delayed = (r) => {
      setImmediate(() => r([200, [], ['a', 'x']]))
    }
    const filter: BodyFilter = async (c) => failOn('x')(c)
    const ran = Promise.resolve((responseCb(app, () => filter) as Delayed)(respond))
    await expect(ran).rejects.toThrow('filter failed')
    expect(log).toEqual([])
    expect(unhandled).toEqual([])
  })

  it('the inner writer rejecting reaches the delayed response even when the app ignores it', async () => {
    const respond = ((r: Triple | Head) =>
      r.length >= 3
        ? undefined
        : {
            write: () => Promise.reject(new Error('aborted')),
            close: () => Promise.reject(new Error('aborted')),
          }) as Responder
    const app: Delayed = (r) => {
      const w = r([200, []])
      void w.write('a')
      void w.close()
    }
    const ran = Promise.resolve((responseCb(app, () => (c) => c) as Delayed)(respond))
    await expect(ran).rejects.toThrow('aborted')
    await nextTurn()
    expect(unhandled).toEqual([])
  })

  it('resolves once the writer is closed, in order, for a delayed response that responds later', async () => {
    const { respond, log, gates } = gatedResponder()
    const app: Delayed = (r) => {
      setImmediate(() => {
        const w = r([200, []])
        void w.write('a')
        void w.write('b')
        void w.close()
      })
    }
    const ran = Promise.resolve((responseCb(app, () => async (c: Chunk | null) => c) as Delayed)(respond))
    while (gates.length < 1) await nextTurn()
    gates[0]!()
    while (gates.length < 2) await nextTurn()
    gates[1]!()
    await ran
    expect(log).toEqual(['write a', 'write b', 'close'])
  })
})

describe('responseCb: promises', () => {
  it('a promise of a delayed response keeps working', async () => {
    const { respond, log, gates } = gatedResponder()
    const res = responseCb(
      Promise.resolve<AppResult>(async (r) => {
        const w = r([200, []])
        await w.write('a')
        await w.close()
      }),
      () => (c) => (c === null ? '!' : c),
    )
    const delayed = (await res) as Delayed
    const ran = Promise.resolve(delayed(respond))
    while (gates.length < 1) await nextTurn()
    gates[0]!()
    while (gates.length < 2) await nextTurn()
    gates[1]!()
    await ran
    expect(log).toEqual(['write a', 'write !', 'close'])
  })
})

describe('responseCb: a callback that throws', () => {
  const thrower = () => {
    throw new Error('cb failed')
  }
  it('throws for a triple, as the app itself would', () => {
    expect(() => responseCb([200, [], ['a']], thrower)).toThrow('cb failed')
  })
  it('rejects for a promise', async () => {
    await expect(
      Promise.resolve(responseCb(Promise.resolve<Triple>([200, [], ['a']]), thrower)),
    ).rejects.toThrow('cb failed')
  })
  it.each([
    ['a triple', [200, [], ['a']] as Triple],
    ['a head', [200, []] as Head],
  ])('rejects the delayed response, not the app, when responding with %s at once', async (_n, res) => {
    const { respond, log } = gatedResponder()
    let thrownInApp: unknown
    const app: Delayed = (r) => {
      try {
        r(res)
      } catch (err) {
        thrownInApp = err
      }
    }
    await expect(Promise.resolve((responseCb(app, thrower) as Delayed)(respond))).rejects.toThrow('cb failed')
    expect(thrownInApp).toBeUndefined()
    expect(log).toEqual([])
  })
})
