/**
 * RequestAccessors: the plain env accessors of {@link TsgiRequest} (Plack::Request's attributes):
 * CGI keys, `tsgi.*`/`tsgix.*` keys and request headers. Nothing here reads the body.
 */
import type { Env, InputStream, Logger } from '../types.js'

/** The value when it is a string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
}

/** The env key of a request header name. */
function envKey(name: string): string {
  const upper = name.toUpperCase().replaceAll('-', '_')
  return upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`
}

/** The read-only env accessors; {@link TsgiRequest} extends it with parsing and body reading. */
export class RequestAccessors {
  /** The env this request reads; shared, so writes to it pass through the whole request. */
  readonly env: Env
  #headers: globalThis.Headers | undefined

  constructor(env: Env) {
    if (env === null || typeof env !== 'object') throw new TypeError('TsgiRequest: env is required')
    this.env = env
  }

  /** The client address (`REMOTE_ADDR`). */
  get address(): string | undefined {
    return this.env.REMOTE_ADDR
  }
  /** The client host name (`REMOTE_HOST`), when the server resolved it. */
  get remoteHost(): string | undefined {
    return str(this.env.REMOTE_HOST)
  }
  /** `SERVER_PROTOCOL`, e.g. `HTTP/1.1`. */
  get protocol(): string {
    return this.env.SERVER_PROTOCOL
  }
  /** `REQUEST_METHOD`. */
  get method(): string {
    return this.env.REQUEST_METHOD
  }
  /** `SERVER_PORT` as a number (undefined when absent or not a number). */
  get port(): number | undefined {
    const port = Number.parseInt(this.env.SERVER_PORT, 10)
    return Number.isNaN(port) ? undefined : port
  }
  /** The Host header as sent (it may carry a port), else `SERVER_NAME`. */
  get host(): string {
    return str(this.env.HTTP_HOST) || this.env.SERVER_NAME
  }
  /** `REMOTE_USER`, set by authentication middleware. */
  get user(): string | undefined {
    return this.env.REMOTE_USER
  }
  /** The raw, undecoded request target (`REQUEST_URI`). */
  get requestUri(): string {
    return this.env.REQUEST_URI
  }
  /** `PATH_INFO` (decoded): the path below the application's mount point. */
  get pathInfo(): string {
    return this.env.PATH_INFO
  }
  /** `PATH_INFO`, or `/` when it is empty. */
  get path(): string {
    return this.env.PATH_INFO || '/'
  }
  /** The raw `QUERY_STRING`. */
  get queryString(): string {
    return this.env.QUERY_STRING ?? ''
  }
  /** `SCRIPT_NAME`: where the application is mounted. */
  get scriptName(): string {
    return this.env.SCRIPT_NAME
  }
  /** `tsgi.url_scheme`. */
  get scheme(): 'http' | 'https' {
    return this.env['tsgi.url_scheme']
  }
  /** True over https. */
  get secure(): boolean {
    return this.env['tsgi.url_scheme'] === 'https'
  }
  /** The request body stream (`tsgi.input`). */
  get body(): InputStream {
    return this.env['tsgi.input']
  }
  /** Alias of {@link body}. */
  get input(): InputStream {
    return this.env['tsgi.input']
  }
  /** `CONTENT_LENGTH` as a number, or undefined. */
  get contentLength(): number | undefined {
    const raw = this.env.CONTENT_LENGTH
    return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined
  }
  /** `CONTENT_TYPE`, as sent (with parameters). */
  get contentType(): string | undefined {
    return this.env.CONTENT_TYPE
  }
  /** The Content-Encoding header. */
  get contentEncoding(): string | undefined {
    return str(this.env.HTTP_CONTENT_ENCODING)
  }
  /** The Referer header. */
  get referer(): string | undefined {
    return str(this.env.HTTP_REFERER)
  }
  /** The User-Agent header. */
  get userAgent(): string | undefined {
    return str(this.env.HTTP_USER_AGENT)
  }
  /** The session data (`tsgix.session`), when a session middleware runs. */
  get session(): Record<string, unknown> | undefined {
    return record(this.env['tsgix.session'])
  }
  /** The session options (`tsgix.session.options`). */
  get sessionOptions(): Record<string, unknown> | undefined {
    return record(this.env['tsgix.session.options'])
  }
  /** The logger (`tsgix.logger`), when one is set. */
  get logger(): Logger | undefined {
    return this.env['tsgix.logger']
  }

  /** A request header by name (case-insensitive), as env holds it (repeated headers joined). */
  header(name: string): string | undefined {
    return str(this.env[envKey(name)])
  }

  /** All request headers as a web `Headers` object, built once per request object. */
  get headers(): globalThis.Headers {
    if (this.#headers === undefined) {
      const headers = new globalThis.Headers()
      for (const [key, value] of Object.entries(this.env)) {
        if (typeof value !== 'string') continue
        let name: string
        if (key.startsWith('HTTP_')) name = key.slice(5).toLowerCase().replaceAll('_', '-')
        else if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH')
          name = key.toLowerCase().replace('_', '-')
        else continue
        try {
          headers.append(name, value)
        } catch {
          // A key or value no header could carry (a hand-built env): leave it out.
        }
      }
      this.#headers = headers
    }
    return this.#headers
  }
}
