/**
 * The file store (Plack::Session::Store::File): one file per session in a directory, so
 * several processes on one machine share sessions. Writes are atomic (a temporary file, then
 * `rename`), every id is checked against the id pattern before it becomes a path, and
 * `sweep()` (also run every `sweepInterval` seconds) removes expired files.
 *
 * @example
 * session({ store: fileStore({ dir: '/var/lib/myapp/sessions' }) })
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync } from 'node:fs'
import { readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { checkOptions, optionFunction, optionNumber, optionString } from '../../src/options.js'
import { isValidId } from './id.js'
import type { SessionStore } from './types.js'

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** Directory of the session files; created when missing. Required. */
  readonly dir: string
  /** Seconds between sweeps of expired files; 0 for none (call `sweep()` yourself). @default 600 */
  readonly sweepInterval?: number
  /** The clock, in milliseconds (for tests). @default Date.now */
  readonly now?: () => number
}

/** The file store: a {@link SessionStore} with a sweep and a way to stop its timer. */
export interface FileStore extends SessionStore {
  /** Removes the files of expired sessions; resolves to how many were removed. */
  sweep(): Promise<number>
  /** Stops the sweep timer. */
  close(): void
}

const SUFFIX = '.json'

/** A store with one file per session in `dir`. */
export function fileStore(options: FileStoreOptions): FileStore {
  const opts = checkOptions('Session', options, ['dir', 'sweepInterval', 'now'])
  const dir = resolve(optionString('Session', opts, 'dir', { required: true }))
  const interval = optionNumber('Session', opts, 'sweepInterval', { min: 0 }) ?? 600
  const now = optionFunction<() => number>('Session', opts, 'now') ?? Date.now
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    readdirSync(dir)
  } catch (err) {
    throw new TypeError(
      `Session: file store option 'dir' is not a usable directory: ${(err as Error).message}`,
    )
  }

  const pathOf = (id: string): string => {
    if (!isValidId(id)) throw new TypeError('Session: file store refused a malformed session id')
    return join(dir, id + SUFFIX)
  }
  const read = async (path: string): Promise<{ e: number; v: string } | undefined> => {
    try {
      const record = JSON.parse(await readFile(path, 'utf8')) as { e?: unknown; v?: unknown }
      return typeof record.e === 'number' && typeof record.v === 'string'
        ? { e: record.e, v: record.v }
        : undefined
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined
      throw err
    }
  }

  const store: FileStore = {
    async get(id) {
      if (!isValidId(id)) return undefined
      const record = await read(pathOf(id))
      return record && record.e > now() ? record.v : undefined
    },
    async set(id, value, ttl) {
      const path = pathOf(id)
      const temp = join(dir, `.${id}.${randomBytes(6).toString('hex')}.tmp`)
      try {
        await writeFile(temp, JSON.stringify({ e: now() + ttl * 1000, v: value }), { mode: 0o600 })
        await rename(temp, path)
      } catch (err) {
        await rm(temp, { force: true })
        throw err
      }
    },
    async delete(id) {
      await rm(pathOf(id), { force: true })
    },
    async sweep() {
      let removed = 0
      for (const name of await readdir(dir)) {
        if (!name.endsWith(SUFFIX) || !isValidId(name.slice(0, -SUFFIX.length))) continue
        const path = join(dir, name)
        const record = await read(path)
        if (record !== undefined && record.e > now()) continue
        await unlink(path).then(
          () => removed++,
          () => undefined,
        )
      }
      return removed
    },
    close() {
      if (timer) clearInterval(timer)
    },
  }
  const timer =
    interval > 0 ? setInterval(() => void store.sweep().catch(() => undefined), interval * 1000) : undefined
  timer?.unref()
  return store
}
