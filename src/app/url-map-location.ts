/**
 * URLMap locations: parsing `'/path'`, `'http://host/path'`, `'//host/path'` and path-to-regexp
 * patterns (`'/users/:id'`) into a host and a prefix matcher that only matches at segment boundaries.
 */
import { match } from 'path-to-regexp'

/** What a location matched: the prefix that moves into SCRIPT_NAME, the rest of PATH_INFO, params. */
export interface LocationMatch {
  readonly prefix: string
  readonly rest: string
  readonly params: Record<string, string | string[]> | undefined
}

/** A parsed location. */
export interface Location {
  /** Lower-cased host (with port when given), or undefined for any host. */
  readonly host: string | undefined
  /** The path without its trailing slash; `''` for the root. */
  readonly path: string
  /** Matches PATH_INFO against the path. */
  readonly match: (pathInfo: string) => LocationMatch | undefined
}

const HOST_FORM = /^(?:https?:)?\/\/([^/]*)(\/.*)?$/i
const PATTERN_CHARS = /[:*{\\]/

/** Parses a location; throws a TypeError naming `component` when it is not a path or URL. */
export function parseLocation(component: string, location: unknown): Location {
  if (typeof location !== 'string') {
    throw new TypeError(`${component}: location must be a string, got ${typeof location}`)
  }
  let host: string | undefined
  let path = location
  const hostForm = HOST_FORM.exec(location)
  if (hostForm) {
    host = hostForm[1]!.toLowerCase()
    path = hostForm[2] ?? ''
    if (host === '') throw new TypeError(`${component}: location '${location}' has an empty host`)
  } else if (!location.startsWith('/')) {
    throw new TypeError(`${component}: location '${location}' must start with '/' or be a URL`)
  }
  if (path.endsWith('/')) path = path.slice(0, -1)
  return {
    host,
    path,
    match: PATTERN_CHARS.test(path) ? patternMatcher(component, path) : literalMatcher(path),
  }
}

function literalMatcher(path: string): Location['match'] {
  return (pathInfo) => {
    if (!pathInfo.startsWith(path)) return undefined
    return boundary(path, pathInfo.slice(path.length), undefined)
  }
}

function patternMatcher(component: string, path: string): Location['match'] {
  let fn: ReturnType<typeof match<Record<string, string | string[]>>>
  try {
    // PATH_INFO is already percent-decoded once: the identity decoder keeps params as they are
    // there (and still splits wildcard params into segments).
    fn = match(path, { end: false, trailing: false, sensitive: true, decode: (v) => v })
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new TypeError(`${component}: bad location pattern '${path}': ${why}`)
  }
  return (pathInfo) => {
    const m = fn(pathInfo)
    if (!m) return undefined
    const params: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(m.params)) if (v !== undefined) params[k] = v
    return boundary(m.path, pathInfo.slice(m.path.length), params)
  }
}

function boundary(prefix: string, rest: string, params: LocationMatch['params']): LocationMatch | undefined {
  return rest === '' || rest.startsWith('/') ? { prefix, rest, params } : undefined
}
