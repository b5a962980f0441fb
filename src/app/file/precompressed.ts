/**
 * Precompressed siblings for the File app: when `file.br` or `file.gz` is a regular file beside
 * `file` (and under the root), the client's Accept-Encoding picks which representation to send.
 * Ties in the client's preferences go to the server's order (the `precompressed` option), and
 * `identity` comes last. The file is "negotiable" when at least one sibling exists: its
 * responses then carry `Vary: Accept-Encoding` whichever representation is sent.
 */
import type { Stats } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import Negotiator from 'negotiator'
import { isUnder } from './locate.js'
import type { PrecompressedEncoding } from './options.js'

/** The representation chosen: the file itself, or a sibling with its content coding. */
export interface Variant {
  readonly real: string
  readonly stat: Stats
  readonly encoding?: PrecompressedEncoding
}

/** The variant to send and whether the file has any sibling at all. */
export interface Negotiated {
  readonly variant: Variant
  readonly negotiable: boolean
}

const SUFFIX: Readonly<Record<PrecompressedEncoding, string>> = { br: '.br', gzip: '.gz' }

/** negotiator's `encodings` with its `preferred` option, which its type definitions leave out. */
interface EncodingNegotiator {
  encodings(available: readonly string[], options: { preferred: readonly string[] }): string[]
}

async function sibling(
  path: string,
  root: string,
  encoding: PrecompressedEncoding,
): Promise<Variant | undefined> {
  try {
    const real = await realpath(path + SUFFIX[encoding])
    if (!isUnder(real, root)) return undefined
    const info = await stat(real)
    return info.isFile() ? { real, stat: info, encoding } : undefined
  } catch {
    return undefined
  }
}

/**
 * Picks the representation of the file at `path` (real path `real`, stat `info`) for a client
 * sending `acceptEncoding`, among the siblings for `codings`.
 */
export async function negotiateVariant(
  path: string,
  identity: Variant,
  root: string,
  codings: readonly PrecompressedEncoding[],
  acceptEncoding: string | undefined,
): Promise<Negotiated> {
  if (codings.length === 0) return { variant: identity, negotiable: false }
  const found = (await Promise.all(codings.map((c) => sibling(path, root, c)))).filter(
    (v): v is Variant => v !== undefined,
  )
  if (found.length === 0) return { variant: identity, negotiable: false }
  if (acceptEncoding === undefined) return { variant: identity, negotiable: true }
  const offers = [...found.map((v) => v.encoding as string), 'identity']
  const negotiator = new Negotiator({ headers: { 'accept-encoding': acceptEncoding } })
  const [best] = (negotiator as unknown as EncodingNegotiator).encodings(offers, { preferred: offers })
  const variant = found.find((v) => v.encoding === best) ?? identity
  return { variant, negotiable: true }
}
