/**
 * The Redis store, on `ioredis` (an optional dependency, imported only when this store first
 * connects): one key per session under a prefix, the value as JSON text, the TTL with `EX`.
 * Several processes and machines share sessions through it.
 *
 * It fails fast while Redis is down (no offline queue, no retries per command), so requests
 * get a 503 at once instead of hanging; ioredis reconnects in the background, and requests
 * succeed again as soon as Redis is back.
 *
 * Its `startup` and `shutdown` are `connect` and `close`: under the builder and a server, the
 * Session middleware connects the store before the first connection (a Redis that cannot be
 * reached stops the start) and quits it after the drain.
 *
 * @example
 * const store = redisStore({ url: 'redis://127.0.0.1:6379' })
 * builder(enable('Session', { store }), app) // connects at startup, quits at shutdown
 * @example
 * await store.connect() // without a server's lifespan: fail early rather than on the first request
 * @see https://redis.io/docs/latest/commands/set/ (SET … EX)
 */
import { checkOptions, optionString } from '../../src/options.js'
import type { SessionStore } from './types.js'

/** What the store needs of a Redis client; an `ioredis` instance has it. */
export interface RedisClient {
  get(key: string): Promise<string | null>
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>
  del(key: string): Promise<unknown>
  quit(): Promise<unknown>
}

/** Options of {@link redisStore}. Give `client`, or `url` and/or `redisOptions`, not both. */
export interface RedisStoreOptions {
  /** Where Redis listens. @default 'redis://127.0.0.1:6379' */
  readonly url?: string
  /** More ioredis options, over the store's fail-fast defaults. @default {} */
  readonly redisOptions?: Readonly<Record<string, unknown>>
  /** A client you made (its own settings apply; ioredis is then not imported). @default undefined */
  readonly client?: RedisClient
  /** Prefix of every key. @default 'tsgi:sess:' */
  readonly prefix?: string
}

/** The Redis store: a {@link SessionStore} you may connect early and close. */
export interface RedisStore extends SessionStore {
  /** Connects (importing ioredis first); rejects when ioredis is missing or Redis unreachable. */
  connect(): Promise<void>
  /** The client, connected. */
  client(): Promise<RedisClient>
  /** Closes the connection the store opened (a given client is left open). */
  close(): Promise<void>
  /** The lifespan startup: {@link RedisStore.connect}. */
  startup(): Promise<void>
  /** The lifespan shutdown: {@link RedisStore.close}. */
  shutdown(): Promise<void>
}

/** Options given to ioredis unless `redisOptions` says otherwise. */
const FAIL_FAST = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
}

interface IoRedisClient extends RedisClient {
  connect(): Promise<void>
  disconnect(): void
  on(event: 'error', listener: (err: Error) => void): unknown
}
type IoRedisConstructor = new (url: string, options: Record<string, unknown>) => IoRedisClient

/** Loads ioredis, or explains how to get it. */
async function loadIoRedis(): Promise<IoRedisConstructor> {
  try {
    const mod = (await import('ioredis')) as unknown as {
      Redis?: IoRedisConstructor
      default?: IoRedisConstructor
    }
    const ctor = mod.Redis ?? mod.default
    if (typeof ctor !== 'function') throw new Error('the module has no Redis class')
    return ctor
  } catch (err) {
    throw new Error(
      `Session: the Redis store needs the optional package 'ioredis' (npm install ioredis): ${(err as Error).message}`,
      { cause: err },
    )
  }
}

/** A store in Redis. */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const opts = checkOptions('Session', options, ['url', 'redisOptions', 'client', 'prefix'])
  const url = optionString('Session', opts, 'url') ?? 'redis://127.0.0.1:6379'
  const prefix = optionString('Session', opts, 'prefix') ?? 'tsgi:sess:'
  const given = opts.client as RedisClient | undefined
  const extra = opts.redisOptions
  if (
    given !== undefined &&
    (typeof given !== 'object' || given === null || typeof given.get !== 'function')
  ) {
    throw new TypeError(`Session: Redis store option 'client' must be a Redis client (an ioredis instance)`)
  }
  if (given !== undefined && (opts.url !== undefined || extra !== undefined)) {
    throw new TypeError(
      `Session: Redis store option 'client' cannot be combined with 'url' or 'redisOptions'`,
    )
  }
  if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) {
    throw new TypeError(`Session: Redis store option 'redisOptions' must be an object`)
  }

  let own: IoRedisClient | undefined
  let pending: Promise<RedisClient> | undefined
  const open = async (): Promise<RedisClient> => {
    if (given) return given
    const Redis = await loadIoRedis()
    const client = new Redis(url, { ...FAIL_FAST, ...(extra as Record<string, unknown> | undefined) })
    client.on('error', () => undefined) // failures reach requests as rejected commands
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      throw err
    }
    own = client
    return client
  }
  const client = (): Promise<RedisClient> => {
    pending ??= open().catch((err: unknown) => {
      pending = undefined // try again on the next request
      throw err
    })
    return pending
  }

  const connect = async () => {
    await client()
  }
  const close = async () => {
    const c = own
    own = undefined
    pending = undefined
    if (c) await c.quit().catch(() => c.disconnect())
  }
  return {
    async get(id) {
      return (await (await client()).get(prefix + id)) ?? undefined
    },
    async set(id, value, ttl) {
      await (await client()).set(prefix + id, value, 'EX', Math.max(1, Math.ceil(ttl)))
    },
    async delete(id) {
      await (await client()).del(prefix + id)
    },
    connect,
    client,
    close,
    startup: connect,
    shutdown: close,
  }
}
