import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateId } from '../../../middleware/session/id.js'
import { fileStore } from '../../../middleware/session/store-file.js'
import { manualClock, storeSuite } from './store-suite.js'

const root = mkdtempSync(join(tmpdir(), 'tsgi-file-store-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => join(root, `s${n++}`)

storeSuite('fileStore', async () => {
  const clock = manualClock()
  return { store: fileStore({ dir: freshDir(), now: clock.now, sweepInterval: 0 }), advance: clock.advance }
})

describe('fileStore: ids never become paths outside the directory', () => {
  const dir = freshDir()
  const store = fileStore({ dir, sweepInterval: 0 })
  const outside = join(root, 'victim.json')
  writeFileSync(outside, JSON.stringify({ e: Date.now() + 60_000, v: 'secret' }))

  it.each([
    '../victim',
    '..%2fvictim',
    `../${'a'.repeat(29)}`,
    '/etc/passwd',
    `${'a'.repeat(31)}/`,
    `${'a'.repeat(31)}\u0000`,
    'a'.repeat(33),
    '',
    '.',
    '..',
  ])('%j: get answers undefined, set and delete refuse', async (id) => {
    expect(await store.get(id)).toBeUndefined()
    await expect(store.set(id, 'x', 60)).rejects.toThrow(/malformed session id/)
    await expect(store.delete(id)).rejects.toThrow(/malformed session id/)
    expect(readFileSync(outside, 'utf8')).toContain('secret')
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('fileStore: files', () => {
  it('writes atomically: no temporary file is left, the file holds the expiry and value', async () => {
    const dir = freshDir()
    const store = fileStore({ dir, now: () => 1000, sweepInterval: 0 })
    const id = generateId()
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(id, `v${i}`, 5)))
    expect(readdirSync(dir)).toEqual([`${id}.json`])
    const record = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8'))
    expect(record.e).toBe(6000)
    expect(record.v).toMatch(/^v\d$/)
  })

  it('treats a corrupt file as no session', async () => {
    const dir = freshDir()
    const store = fileStore({ dir, sweepInterval: 0 })
    const id = generateId()
    await store.set(id, 'x', 60)
    writeFileSync(join(dir, `${id}.json`), '{"e":')
    expect(await store.get(id)).toBeUndefined()
  })

  it('sweeps expired and corrupt session files, and leaves live ones and other files', async () => {
    const clock = manualClock()
    const dir = freshDir()
    const store = fileStore({ dir, now: clock.now, sweepInterval: 0 })
    const [live, old, bad] = [generateId(), generateId(), generateId()]
    await store.set(live, 'live', 100)
    await store.set(old, 'old', 10)
    writeFileSync(join(dir, `${bad}.json`), 'not json')
    writeFileSync(join(dir, 'README'), 'keep me')
    clock.advance(20_000)
    expect(await store.sweep()).toBe(2)
    expect(readdirSync(dir).sort()).toEqual([`${live}.json`, 'README'].sort())
    store.close()
  })

  it('creates the directory, and refuses one it cannot use', () => {
    const dir = join(freshDir(), 'a', 'b')
    fileStore({ dir, sweepInterval: 0 })
    expect(existsSync(dir)).toBe(true)
    const file = join(root, 'plain-file')
    writeFileSync(file, '')
    expect(() => fileStore({ dir: join(file, 'x') })).toThrow(
      /Session: file store option 'dir' is not a usable directory/,
    )
  })

  it.each([
    [{}, /Session: option 'dir' is required/],
    [{ dir: 1 }, /Session: option 'dir' must be a string/],
    [{ dir: root, sweepInterval: -1 }, /sweepInterval/],
    [{ dir: root, other: 1 }, /Session: unknown option 'other'/],
  ])('rejects %o', (options, message) => {
    expect(() => fileStore(options as never)).toThrow(message)
  })
})
