import { describe, expect, it } from 'vitest'
import { compileLogFormat, type LogRecord } from '../../../middleware/access-log/format.js'
import type { Env } from '../../../src/types.js'
import { pinTimeZone } from '../log-capture.js'

pinTimeZone('America/Los_Angeles')

const env = {
  REQUEST_METHOD: 'GET',
  SCRIPT_NAME: '/app',
  PATH_INFO: '/a b',
  REQUEST_URI: '/app/a%20b?x=1',
  QUERY_STRING: 'x=1',
  SERVER_NAME: 'example.org',
  SERVER_PORT: '8080',
  SERVER_PROTOCOL: 'HTTP/1.1',
  HTTP_HOST: 'example.org:8080',
  HTTP_USER_AGENT: 'curl/8',
  CONTENT_TYPE: 'text/plain',
  REMOTE_ADDR: '192.0.2.7',
  REMOTE_PORT: '50123',
  REMOTE_USER: 'ann',
  'my.key': 'noted',
  'my.count': 3,
  'my.object': { a: 1 },
} as unknown as Env

const record: LogRecord = {
  env,
  status: 302,
  headers: ['Location', '/next', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
  length: 1234,
  duration: 2_345_678.9,
  start: new Date('2000-10-10T20:55:36.042Z'),
  end: new Date('2000-10-10T20:55:38.500Z'),
}

describe('compileLogFormat: one directive at a time', () => {
  it.each<[string, string]>([
    ['%%', '%'],
    ['%a', '192.0.2.7'],
    ['%{c}a', '192.0.2.7'],
    ['%h', '192.0.2.7'],
    ['%l', '-'],
    ['%u', 'ann'],
    ['%t', '[10/Oct/2000:13:55:36 -0700]'],
    ['%{}t', '[10/Oct/2000:13:55:36 -0700]'],
    ['%{end:}t', '[10/Oct/2000:13:55:38 -0700]'],
    ['%{%Y-%m-%dT%H:%M:%S %z}t', '[2000-10-10T13:55:36 -0700]'],
    ['%{end:%T}t', '[13:55:38]'],
    ['%{sec}t', '971211336'],
    ['%{msec}t', '971211336042'],
    ['%{usec}t', '971211336042000'],
    ['%{msec_frac}t', '042'],
    ['%{usec_frac}t', '042000'],
    ['%{end:msec_frac}t', '500'],
    ['%r', 'GET /app/a%20b?x=1 HTTP/1.1'],
    ['%s', '302'],
    ['%>s', '302'],
    ['%b', '1234'],
    ['%B', '1234'],
    ['%D', '2345678'],
    ['%T', '2'],
    ['%{s}T', '2'],
    ['%{ms}T', '2345'],
    ['%{us}T', '2345678'],
    ['%v', 'example.org'],
    ['%V', 'example.org:8080'],
    ['%p', '8080'],
    ['%{local}p', '8080'],
    ['%{remote}p', '50123'],
    ['%P', String(process.pid)],
    ['%{pid}P', String(process.pid)],
    ['%m', 'GET'],
    ['%U', '/app/a b'],
    ['%q', '?x=1'],
    ['%H', 'HTTP/1.1'],
    ['%{User-Agent}i', 'curl/8'],
    ['%{content-type}i', 'text/plain'],
    ['%{Accept}i', '-'],
    ['%{Location}o', '/next'],
    ['%{set-cookie}o', 'a=1'],
    ['%{my.key}e', 'noted'],
    ['%{my.count}n', '3'],
    ['%{my.object}e', '-'],
    ['%{missing}e', '-'],
    ['100% literal', '100% literal'],
    ['"%r" %>s', '"GET /app/a%20b?x=1 HTTP/1.1" 302'],
  ])('%s', (format, expected) => {
    expect(compileLogFormat(format)(record)).toBe(expected)
  })
})

describe('compileLogFormat: edge values', () => {
  it('logs - for unknown lengths and durations, and %q as empty without a query', () => {
    const line = compileLogFormat('%b|%B|%D|%T|%q|%u')({
      ...record,
      env: { ...env, QUERY_STRING: '', REMOTE_USER: undefined } as unknown as Env,
      length: undefined,
      duration: undefined,
    })
    expect(line).toBe('-|-|-|-||-')
  })

  it('names the combined and common formats', () => {
    expect(compileLogFormat('common')(record)).toBe(
      '192.0.2.7 - ann [10/Oct/2000:13:55:36 -0700] "GET /app/a%20b?x=1 HTTP/1.1" 302 1234',
    )
    expect(compileLogFormat('combined')(record)).toBe(
      '192.0.2.7 - ann [10/Oct/2000:13:55:36 -0700] "GET /app/a%20b?x=1 HTTP/1.1" 302 1234 "-" "curl/8"',
    )
  })

  it('lets built-in directives win over handlers of the same letter, as Plack', () => {
    const format = compileLogFormat('%h %{x}i', {
      charHandlers: { h: () => 'mine' },
      blockHandlers: { i: () => 'mine' },
    })
    expect(format(record)).toBe('192.0.2.7 -')
  })

  it('gives handlers the env, the response, the length and the duration, and escapes what they return', () => {
    const seen: unknown[] = []
    const format = compileLogFormat('%z %{blk}Z', {
      charHandlers: {
        z: (...args) => {
          seen.push(args)
          return 'a\nb'
        },
      },
      blockHandlers: { Z: (block) => (block === 'blk' ? '' : 'x') },
    })
    expect(format(record)).toBe('a\\nb -')
    expect(seen).toEqual([[env, [302, record.headers], 1234, 2_345_678.9]])
  })

  it('names the component in errors', () => {
    expect(() => compileLogFormat('%j', {}, 'AccessLog::Timed')).toThrow(
      "AccessLog::Timed: option 'format': %j",
    )
    expect(() => compileLogFormat('%{}i')).toThrow("option 'format': %{}i needs a header name")
  })
})
