/**
 * One request's session: installs `tsgix.session` and `tsgix.session.options` on the env,
 * keeps a JSON snapshot of the data as loaded, and tells at the end whether the app changed
 * it (JSON compared with the snapshot). Shared by Session and Session::Cookie.
 */
import type { Env } from '../../src/types.js'
import { generateId } from './id.js'
import type { SessionData, SessionEnvOptions } from './types.js'

/** `tsgix.session.options`, with an id made only when someone reads it. */
export class SessionOptionsObject implements SessionEnvOptions {
  #id: string | undefined
  expire?: boolean
  changeId?: boolean
  noStore?: boolean
  path?: string
  domain?: string
  maxAge?: number
  secure?: boolean
  httpOnly?: boolean
  sameSite?: 'Strict' | 'Lax' | 'None'

  constructor(id: string | undefined) {
    this.#id = id
  }
  get id(): string {
    this.#id ??= generateId()
    return this.#id
  }
  /** Gives the session a new id (changeId). */
  renew(): string {
    this.#id = generateId()
    return this.#id
  }
}

/** The session of one request. */
export class SessionContext {
  /** JSON of the data as loaded ('{}' for a new session): what "changed" is measured against. */
  private readonly snapshot: string
  readonly options: SessionOptionsObject
  private env: Env | undefined

  /** `loaded` is the stored data (undefined for a new session); `id` its id. */
  constructor(
    readonly loaded: SessionData | undefined,
    id: string | undefined,
  ) {
    this.snapshot = loaded === undefined ? '{}' : JSON.stringify(loaded)
    this.options = new SessionOptionsObject(id)
  }

  /** Puts the session and its options on the env (plain keys: an accessor would cost more than the JSON). */
  install(env: Env): void {
    this.env = env
    env['tsgix.session'] = this.loaded ?? {}
    env['tsgix.session.options'] = this.options
  }

  /** The session the app leaves (it may have replaced the object; a non-object counts as `{}`). */
  get data(): SessionData {
    const data = this.env?.['tsgix.session']
    return isPlainObject(data) ? data : {}
  }

  /** The data's JSON when it differs from what was loaded; else undefined. */
  changedJson(): string | undefined {
    const data = this.data
    if (this.loaded === undefined && isEmpty(data)) return undefined
    const json = JSON.stringify(data)
    return json === this.snapshot ? undefined : json
  }
}

function isEmpty(data: SessionData): boolean {
  for (const _ in data) return false
  return true
}

/** True for `{}`-like objects (not arrays, not null, not class instances). */
export function isPlainObject(value: unknown): value is SessionData {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
