/**
 * Turns the arguments of a test `fetch` into a `Request` as it would arrive over the wire:
 * a path is resolved against the base URL, and the body gets the `Content-Length` a real
 * client would send (or `Transfer-Encoding: chunked` when it is a stream), so the app sees
 * the same env in process as behind a server.
 */

/** Methods a fetch client sends `Content-Length: 0` for when there is no body. */
const zeroLength = new Set(['POST', 'PUT'])

function isStream(body: unknown): boolean {
  return (
    body instanceof ReadableStream ||
    (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
  )
}

/** The request `fetch(input, init)` would send, with any path resolved against `base`. */
export async function testRequest(
  input: string | URL | globalThis.Request,
  init: RequestInit | undefined,
  base: string,
): Promise<globalThis.Request> {
  const options: RequestInit & { duplex?: 'half' } = { ...init }
  if (init?.body != null && isStream(init.body)) options.duplex = 'half'
  const request =
    input instanceof globalThis.Request
      ? new globalThis.Request(input, options)
      : new globalThis.Request(new URL(String(input), base), options)
  const headers = request.headers
  if (headers.has('content-length') || headers.has('transfer-encoding')) return request
  if (request.body === null) {
    if (zeroLength.has(request.method)) headers.set('content-length', '0')
    return request
  }
  if (isStream(init?.body)) {
    headers.set('transfer-encoding', 'chunked')
    return request
  }
  const bytes = new Uint8Array(await request.arrayBuffer())
  const copy = new globalThis.Headers(headers)
  copy.set('content-length', String(bytes.byteLength))
  return new globalThis.Request(request.url, {
    method: request.method,
    headers: copy,
    body: bytes,
    signal: request.signal,
    redirect: request.redirect,
  })
}
