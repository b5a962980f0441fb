/**
 * Maps a request path to a file or directory under a root, safely: NUL bytes are refused
 * (400), any `..` segment is refused (403) whether the separators are `/` or `\` and whether
 * the dots or separators are still percent-encoded, and the real path of what is found (after
 * symbolic links) must lie under the real path of the root (403 otherwise).
 */
import { constants, type Stats } from 'node:fs'
import { access, realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'

/** What a request path leads to. */
export type Located =
  | {
      readonly kind: 'file' | 'directory'
      readonly path: string
      readonly real: string
      readonly stat: Stats
    }
  | { readonly kind: 'error'; readonly status: 400 | 403 | 404 }

const DOTS = /^\.{2,}$/
const SEPARATORS = /[\\/]/
const ENCODED = /%(2e|2f|5c|00)/gi
const HAS_ENCODED = /%(2e|2f|5c|00)/i
const DECODED: Readonly<Record<string, string>> = { '2e': '.', '2f': '/', '5c': '\\', '00': '\0' }

/**
 * The segments of `path` (PATH_INFO, already decoded once), or the status that refuses it:
 * 400 for a NUL byte, 403 for a `..` segment (Plack's rule: two or more dots).
 */
export function pathSegments(path: string): string[] | 400 | 403 {
  if (path.includes('\0')) return 400
  const segments = path.split(SEPARATORS)
  if (segments.some((s) => DOTS.test(s))) return 403
  if (HAS_ENCODED.test(path)) {
    const again = path.replace(ENCODED, (_, hex: string) => DECODED[hex.toLowerCase()] ?? '')
    if (again.includes('\0')) return 400
    if (again.split(SEPARATORS).some((s) => DOTS.test(s))) return 403
  }
  return segments.filter((s) => s !== '' && s !== '.')
}

/** True when `path` names a directory by its form (a trailing separator). */
export function endsWithSeparator(path: string): boolean {
  return path.endsWith('/') || path.endsWith('\\')
}

/** The real path of a root, computed on first success and kept. */
export function realRoot(root: string): () => Promise<string> {
  let cached: string | undefined
  return async () => {
    if (cached === undefined) cached = await realpath(root)
    return cached
  }
}

/** True when `real` is `root` or lies below it. */
export function isUnder(real: string, root: string): boolean {
  if (real === root) return true
  return real.startsWith(root.endsWith(sep) ? root : root + sep)
}

/** The HTTP status for a file-system error, or undefined when it is not a client's doing. */
export function statusForError(err: unknown): 403 | 404 | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') return 404
  if (code === 'EACCES' || code === 'EPERM') return 403
  return undefined
}

/**
 * Finds what `pathInfo` names under `root`. A trailing separator asks for a directory: a file
 * there is 404. Directories are found only when `directories` is true (404 otherwise).
 */
export async function locate(
  root: () => Promise<string>,
  rootPath: string,
  pathInfo: string,
  directories: boolean,
): Promise<Located> {
  const segments = pathSegments(pathInfo)
  if (typeof segments === 'number') return { kind: 'error', status: segments }
  const path = join(rootPath, ...segments)
  try {
    const [base, real] = await Promise.all([root(), realpath(path)])
    if (!isUnder(real, base)) return { kind: 'error', status: 403 }
    const info = await stat(real)
    if (info.isDirectory()) {
      return directories ? { kind: 'directory', path, real, stat: info } : { kind: 'error', status: 404 }
    }
    if (!info.isFile() || endsWithSeparator(pathInfo)) return { kind: 'error', status: 404 }
    await access(real, constants.R_OK)
    return { kind: 'file', path, real, stat: info }
  } catch (err) {
    const status = statusForError(err)
    if (status === undefined) throw err
    return { kind: 'error', status }
  }
}
