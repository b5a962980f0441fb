import { createReadStream, fstatSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  arrayBodyLength,
  bodyIterable,
  chunkLength,
  discardBody,
  fileBody,
  isAsyncIterable,
  isFileBody,
  isPromiseLike,
  readBody,
  toBytes,
} from '../src/body.js'
import type { Body } from '../src/types.js'

let dir: string
let file: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-body-'))
  file = join(dir, 'data.txt')
  await writeFile(file, '0123456789')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('body kinds', () => {
  it('recognises async iterables of every origin', () => {
    expect(isAsyncIterable((async function* () {})())).toBe(true)
    expect(isAsyncIterable(Readable.from(['a']))).toBe(true)
    expect(isAsyncIterable(new ReadableStream())).toBe(true)
    expect(isAsyncIterable(['a'])).toBe(false)
    expect(isAsyncIterable(null)).toBe(false)
    expect(isAsyncIterable('abc')).toBe(false)
  })

  it('recognises file bodies', () => {
    expect(isFileBody(fileBody(file))).toBe(true)
    expect(isFileBody(fileBody(file, { start: 2, end: 4 }))).toBe(true)
    expect(isFileBody({ path: file })).toBe(false)
    expect(isFileBody(Readable.from(['a']))).toBe(false)
    expect(isFileBody(null)).toBe(false)
  })

  it('takes only what fileBody() made for a file body, whatever has a path', async () => {
    const stream = createReadStream(file)
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
    expect(typeof stream.path).toBe('string')
    expect(isFileBody(stream)).toBe(false)
    stream.destroy()
    await closed
    const handMade = {
      path: file,
      [Symbol.asyncIterator]: () => createReadStream(file)[Symbol.asyncIterator](),
    }
    expect(isFileBody(handMade)).toBe(false)
    expect(isAsyncIterable(handMade)).toBe(true)
    // A copy carries no brand, so it cannot point a file body somewhere else.
    expect(isFileBody({ ...fileBody(file), path: '/etc/passwd' })).toBe(false)
    expect(isFileBody(Object.assign({}, fileBody(file)))).toBe(false)
  })

  it('makes frozen file bodies', () => {
    const body = fileBody(file, { start: 1 })
    expect(Object.isFrozen(body)).toBe(true)
    expect(() => Object.assign(body, { path: '/etc/passwd' })).toThrow(TypeError)
    expect(body.path).toBe(file)
  })

  it('recognises promises', () => {
    expect(isPromiseLike(Promise.resolve())).toBe(true)
    // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is the case under test
    expect(isPromiseLike({ then: () => {} })).toBe(true)
    expect(isPromiseLike({})).toBe(false)
  })

  it('reads a file body whole and by inclusive range', async () => {
    expect((await readBody(fileBody(file))).toString()).toBe('0123456789')
    const part = fileBody(file, { start: 2, end: 4 })
    expect(part.start).toBe(2)
    expect(part.end).toBe(4)
    expect((await readBody(part)).toString()).toBe('234')
    // a file body can be read more than once
    expect((await readBody(part)).toString()).toBe('234')
  })

  it('measures chunks in UTF-8 bytes', () => {
    expect(chunkLength('héllo')).toBe(6)
    expect(chunkLength(new Uint8Array(3))).toBe(3)
    expect(arrayBodyLength(['é', new Uint8Array(2), ''])).toBe(4)
    expect(toBytes('é')).toEqual(new Uint8Array([0xc3, 0xa9]))
  })

  it('reads arrays, generators, Readables and web streams alike', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('web'))
        c.close()
      },
    })
    const cases: [Body, string][] = [
      [['a', new TextEncoder().encode('b')], 'ab'],
      [
        (async function* () {
          yield 'g'
          yield 'en'
        })(),
        'gen',
      ],
      [Readable.from([Buffer.from('node')]), 'node'],
      [web, 'web'],
    ]
    for (const [body, want] of cases) {
      expect((await readBody(body)).toString()).toBe(want)
    }
    const chunks: string[] = []
    for await (const c of bodyIterable(['x', 'y'])) chunks.push(String(c))
    expect(chunks).toEqual(['x', 'y'])
  })
})

describe('discardBody', () => {
  it('destroys node Readables, fs.ReadStreams included', async () => {
    const readable = Readable.from(['a'])
    const stream = createReadStream(file)
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
    await discardBody(readable)
    await discardBody(stream)
    expect(readable.destroyed).toBe(true)
    expect(stream.destroyed).toBe(true)
    await closed
  })

  it("closes an open fs.ReadStream's file descriptor", async () => {
    const stream = createReadStream(file)
    const fd = await new Promise<number>((resolve) => stream.once('open', resolve))
    expect(fstatSync(fd).isFile()).toBe(true)
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
    await discardBody(stream)
    // 'close' comes once the descriptor is closed; the stream then holds none (node's `fd`
    // field, left out of its typings).
    await closed
    expect((stream as unknown as { fd: number | null }).fd).toBeNull()
  })

  it('cancels a web ReadableStream', async () => {
    let reason: unknown = 'not cancelled'
    const web = new ReadableStream({
      cancel: (r) => {
        reason = r
      },
    })
    await discardBody(web)
    expect(reason).toBeUndefined()
  })

  it("runs a generator's finally blocks, starting before it returns", async () => {
    let closed = false
    const gen = (async function* () {
      try {
        yield 'a'
      } finally {
        closed = true
      }
    })()
    await gen.next()
    const done = discardBody(gen)
    expect(await gen.next()).toEqual({ done: true, value: undefined })
    await done
    expect(closed).toBe(true)
  })

  it("calls return() on an iterable's own iterator", async () => {
    const calls: string[] = []
    const body = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true as const, value: undefined }),
        return: async () => {
          calls.push('return')
          return { done: true as const, value: undefined }
        },
      }),
    }
    await discardBody(body)
    expect(calls).toEqual(['return'])
  })

  it.each<[string, unknown]>([
    ['an array', ['a']],
    ['a file body', null],
    ['a string', 'abc'],
    ['undefined', undefined],
    ['an object that is no body', { next: () => {} }],
  ])('leaves %s alone', async (_, given) => {
    const body = given === null ? fileBody(file) : given
    await expect(discardBody(body)).resolves.toBeUndefined()
  })

  it('never rejects: a failure goes to onError, or nowhere', async () => {
    const failing = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true as const, value: undefined }),
        return: () => Promise.reject(new Error('stuck')),
      }),
    }
    const seen: unknown[] = []
    await discardBody(failing, (err) => seen.push(err))
    expect(String(seen[0])).toBe('Error: stuck')
    await expect(discardBody(failing)).resolves.toBeUndefined()
    const locked = new ReadableStream()
    locked.getReader()
    await discardBody(locked, (err) => seen.push(err))
    expect(seen[1]).toBeInstanceOf(TypeError)
  })
})
