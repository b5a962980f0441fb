/**
 * Request-path decoding shared by the servers: the spec's one percent-decoding of the path,
 * read as UTF-8, refusing what does not decode so the server can answer 400.
 */

/**
 * Percent-decodes a path once (`%2F` becomes `/`, `%252F` becomes `%2F`); undefined when it does
 * not decode: a `%` not followed by two hex digits, or octets that are not UTF-8.
 */
export function decodePath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}
