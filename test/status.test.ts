import { describe, expect, it } from 'vitest'
import { errorStatus, HttpError } from '../src/http-error.js'
import { STATUS_CODES, statusText, statusWithNoEntityBody } from '../src/status.js'

describe('status', () => {
  it.each([
    [200, 'OK'],
    [404, 'Not Found'],
    [413, 'Content Too Large'],
    [103, 'Early Hints'],
    [299, 'Success'],
    [599, 'Server Error'],
    [799, 'Unknown'],
  ])('statusText(%i) is %j', (code, text) => {
    expect(statusText(code)).toBe(text)
  })

  it('has the common codes', () => {
    expect(STATUS_CODES[500]).toBe('Internal Server Error')
  })

  it.each([
    [100, true],
    [101, true],
    [199, true],
    [200, false],
    [204, true],
    [205, false],
    [304, true],
    [404, false],
  ])('statusWithNoEntityBody(%i) is %s', (code, none) => {
    expect(statusWithNoEntityBody(code)).toBe(none)
  })
})

describe('HttpError', () => {
  it('carries status, message, headers and expose', () => {
    const e = new HttpError(404)
    expect(e).toBeInstanceOf(Error)
    expect(e.status).toBe(404)
    expect(e.message).toBe('Not Found')
    expect(e.expose).toBe(true)
    const r = new HttpError(302, 'Found', { headers: ['Location', '/x'] })
    expect(r.headers).toEqual(['Location', '/x'])
    const s = new HttpError(503, 'db down', { cause: new Error('ECONNREFUSED') })
    expect(s.expose).toBe(false)
    expect((s.cause as Error).message).toBe('ECONNREFUSED')
  })

  it.each([0, 200, 600, 404.5, Number.NaN])('rejects status %s with a TypeError', (status) => {
    expect(() => new HttpError(status)).toThrow(TypeError)
  })

  it.each([
    [new HttpError(418), 418],
    [Object.assign(new Error('x'), { status: 401 }), 401],
    [{ status: 502 }, 502],
    [{ status: 200 }, undefined],
    [{ status: '404' }, undefined],
    [new Error('plain'), undefined],
    [null, undefined],
    ['string', undefined],
  ])('errorStatus(%o) is %s', (err, want) => {
    expect(errorStatus(err)).toBe(want)
  })
})
