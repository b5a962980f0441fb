/**
 * The cookie format of Session::Cookie: `<body>.<signature>`, both base64url. The body is the
 * session's JSON, or with encryption `iv | AES-256-GCM ciphertext | tag`; the signature is
 * HMAC-SHA256 over the body (encrypt-then-MAC), compared in constant time; only its canonical
 * base64url spelling is accepted, so a cookie cannot be altered and still open. Each secret gives
 * two keys through HKDF-SHA256: one to sign, one to encrypt. The first secret seals; every
 * secret opens, so secrets can be rotated.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'

/** The keys derived from one secret. */
export interface CookieKeys {
  readonly mac: Buffer
  readonly enc: Buffer
}

/** Longest cookie value looked at; longer ones are refused before any crypto work. */
export const MAX_COOKIE_VALUE = 8192

const SALT = 'tsgi.session-cookie.v1'
const SIGNATURE_LENGTH = 43 // 32 bytes of HMAC-SHA256 in base64url
const BASE64URL = /^[A-Za-z0-9_-]+$/
const IV_BYTES = 12
const TAG_BYTES = 16

/** Derives the signing and encryption keys of `secret`. */
export function deriveKeys(secret: string): CookieKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, SALT, info, 32))
  return { mac: derive('sign'), enc: derive('encrypt') }
}

function sign(keys: CookieKeys, body: string): Buffer {
  return createHmac('sha256', keys.mac).update(body).digest()
}

/** Seals `json` with `keys` (and encrypts it when `encrypt`). */
export function seal(json: string, keys: CookieKeys, encrypt: boolean): string {
  let body: string
  if (encrypt) {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', keys.enc, iv)
    const data = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()])
    body = Buffer.concat([iv, data, cipher.getAuthTag()]).toString('base64url')
  } else {
    body = Buffer.from(json, 'utf8').toString('base64url')
  }
  return `${body}.${sign(keys, body).toString('base64url')}`
}

/** The JSON sealed in `value` by any of `keys`, or undefined when it is malformed or forged. */
export function open(value: string, keys: readonly CookieKeys[], encrypt: boolean): string | undefined {
  if (value.length > MAX_COOKIE_VALUE) return undefined
  const dot = value.lastIndexOf('.')
  const body = value.slice(0, dot)
  const signature = value.slice(dot + 1)
  if (
    dot < 1 ||
    signature.length !== SIGNATURE_LENGTH ||
    !BASE64URL.test(body) ||
    !BASE64URL.test(signature)
  ) {
    return undefined
  }
  const given = Buffer.from(signature, 'base64url')
  // The last character carries 2 unused bits: only the canonical spelling is accepted, so a
  // sealed cookie has exactly one valid form.
  if (given.toString('base64url') !== signature) return undefined
  const match = keys.find((k) => timingSafeEqual(sign(k, body), given))
  if (match === undefined) return undefined
  const bytes = Buffer.from(body, 'base64url')
  if (!encrypt) return bytes.toString('utf8')
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', match.enc, bytes.subarray(0, IV_BYTES))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    const data = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
