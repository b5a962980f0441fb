/**
 * A FastCGI client for the tests, speaking the record layer as a front end does: requests
 * multiplexed on one connection, with the records of each written as the test says, and what
 * comes back collected per request id (stdout, stderr, FCGI_END_REQUEST), plus the management
 * records.
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  BEGIN_REQUEST,
  END_REQUEST,
  encodePairs,
  GET_VALUES,
  GET_VALUES_RESULT,
  KEEP_CONN,
  PARAMS,
  RESPONDER,
  RecordParser,
  record,
  STDERR,
  STDIN,
  STDOUT,
  UNKNOWN_TYPE,
} from '../../src/server/fastcgi-records.js'

/** What came back for one request. */
export interface FcgiReply {
  readonly stdout: Buffer
  readonly stderr: string
  readonly appStatus: number
  readonly protocolStatus: number
  /** The stdout records' content lengths, in order (the last, empty one included). */
  readonly records: number[]
}

/** A parsed CGI response. */
export interface CgiResponse {
  readonly status: number
  readonly reason: string
  readonly headers: [string, string][]
  readonly body: Buffer
}

/** Splits a CGI response (`Status:` and fields, a blank line, the body). */
export function parseCgi(stdout: Buffer): CgiResponse {
  const end = stdout.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no end of the head in ${JSON.stringify(stdout.toString('latin1'))}`)
  const lines = stdout.toString('latin1', 0, end).split('\r\n')
  let status = 200
  let reason = 'OK'
  const headers: [string, string][] = []
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') {
      const space = value.indexOf(' ')
      status = Number(space < 0 ? value : value.slice(0, space))
      reason = space < 0 ? '' : value.slice(space + 1)
    } else headers.push([name, value])
  }
  return { status, reason, headers, body: stdout.subarray(end + 4) }
}

interface Pending {
  stdout: Buffer[]
  stderr: string
  records: number[]
  resolve: (reply: FcgiReply) => void
}

export class FcgiClient {
  private readonly pending = new Map<number, Pending>()
  readonly management: { type: number; content: Buffer }[] = []
  private managementWaiters: (() => void)[] = []
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    const parser = new RecordParser((type, id, content) => this.onRecord(type, id, content))
    socket.on('data', (chunk: Buffer) => {
      const problem = parser.push(chunk)
      if (problem !== undefined) throw new Error(problem)
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  /** Connects to a unix socket path or a TCP port on 127.0.0.1. */
  static async open(where: string | number): Promise<FcgiClient> {
    const socket = typeof where === 'string' ? connect(where) : connect(where, '127.0.0.1')
    await once(socket, 'connect')
    return new FcgiClient(socket)
  }

  private onRecord(type: number, id: number, content: Buffer): void {
    if (id === 0 || type === GET_VALUES_RESULT || type === UNKNOWN_TYPE) {
      this.management.push({ type, content: Buffer.from(content) })
      for (const w of this.managementWaiters.splice(0)) w()
      return
    }
    const p = this.pending.get(id)
    if (p === undefined) throw new Error(`a record of type ${type} for request ${id}, which is not open`)
    if (type === STDOUT) {
      p.records.push(content.length)
      if (content.length > 0) p.stdout.push(Buffer.from(content))
    } else if (type === STDERR) p.stderr += content.toString()
    else if (type === END_REQUEST) {
      this.pending.delete(id)
      p.resolve({
        stdout: Buffer.concat(p.stdout),
        stderr: p.stderr,
        appStatus: content.readUInt32BE(0),
        protocolStatus: content[4]!,
        records: p.records,
      })
    }
  }

  /** Resolves once `count` management records have arrived. */
  async managementRecords(count: number): Promise<void> {
    while (this.management.length < count) await new Promise<void>((r) => this.managementWaiters.push(r))
  }

  /** Writes raw bytes. */
  write(data: Uint8Array): void {
    this.socket.write(data)
  }

  /** Begins request `id` (responder, or `role`) and resolves with its reply once it ends. */
  begin(id: number, options: { keepConn?: boolean; role?: number } = {}): Promise<FcgiReply> {
    const body = Buffer.alloc(8)
    body.writeUInt16BE(options.role ?? RESPONDER, 0)
    body[2] = (options.keepConn ?? true) ? KEEP_CONN : 0
    this.write(record(BEGIN_REQUEST, id, body))
    return new Promise((resolve) => this.pending.set(id, { stdout: [], stderr: '', records: [], resolve }))
  }

  /** Sends the params of request `id` and their end. */
  params(id: number, params: Record<string, string>): void {
    const data = encodePairs(Object.entries(params))
    for (let at = 0; at < data.length; at += 65535) {
      this.write(record(PARAMS, id, data.subarray(at, at + 65535)))
    }
    this.write(record(PARAMS, id))
  }

  /** Sends stdin bytes of request `id` (an empty chunk ends it). */
  stdin(id: number, data: Uint8Array = Buffer.alloc(0)): boolean {
    if (data.length === 0) return this.socket.write(record(STDIN, id))
    let ok = true
    for (let at = 0; at < data.length; at += 65535)
      ok = this.socket.write(record(STDIN, id, data.subarray(at, at + 65535)))
    return ok
  }

  /** One whole request: params, stdin, and its reply. */
  request(
    id: number,
    params: Record<string, string>,
    body?: Uint8Array,
    keepConn = true,
  ): Promise<FcgiReply> {
    const reply = this.begin(id, { keepConn })
    this.params(id, params)
    if (body !== undefined && body.length > 0) this.stdin(id, body)
    this.stdin(id)
    return reply
  }

  /** Asks FCGI_GET_VALUES for `names`. */
  getValues(names: string[]): void {
    this.write(record(GET_VALUES, 0, encodePairs(names.map((n) => [n, '']))))
  }

  close(): void {
    this.socket.destroy()
  }
}

/** The params nginx sends for `GET path?query` with SCRIPT_NAME '' (the app at the root). */
export function paramsFor(
  method: string,
  target: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const q = target.indexOf('?')
  return {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: q < 0 ? target : target.slice(0, q),
    QUERY_STRING: q < 0 ? '' : target.slice(q + 1),
    REQUEST_URI: target,
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    HTTP_HOST: 'localhost',
    ...extra,
  }
}
