/**
 * TsgiUpload: one file of a multipart request body, saved to a temporary file
 * (Plack::Request::Upload). The file lives until the request's cleanup runs.
 */
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { HeaderList } from '../types.js'

export interface TsgiUploadInit {
  readonly fieldName: string
  readonly filename: string
  readonly contentType: string
  readonly size: number
  readonly path: string
  readonly headers: HeaderList
}

export class TsgiUpload {
  /** The form field name the file came in. */
  readonly fieldName: string
  /** The file name as the client sent it (it may hold directories or odd characters). */
  readonly filename: string
  /** The part's media type (`text/plain` when the client gave none, as RFC 7578 says). */
  readonly contentType: string
  /** The size in bytes. */
  readonly size: number
  /** Path of the temporary file holding the content. */
  readonly path: string
  /** The part headers known after parsing (`Content-Type`), a flat list. */
  readonly headers: HeaderList

  constructor(init: TsgiUploadInit) {
    this.fieldName = init.fieldName
    this.filename = init.filename
    this.contentType = init.contentType
    this.size = init.size
    this.path = init.path
    this.headers = [...init.headers]
  }

  /** Alias of {@link path} (Plack's `tempname`). */
  get tempname(): string {
    return this.path
  }

  /** Alias of {@link contentType} (Plack's `type`). */
  get type(): string {
    return this.contentType
  }

  /** The last segment of the file name (`\` counts as a separator), unfiltered. */
  get rawBasename(): string {
    const name = this.filename.replaceAll('\\', '/')
    return name.slice(name.lastIndexOf('/') + 1)
  }

  /**
   * {@link rawBasename} with every run of characters other than `A-Za-z0-9_.-` replaced by `_`;
   * `''`, `.` and `..` (which name a directory, not a file) become `_`.
   */
  get basename(): string {
    const name = this.rawBasename.replace(/[^\w.-]+/g, '_')
    return name === '' || name === '.' || name === '..' ? '_' : name
  }

  /** The content as bytes (reads the whole file). */
  bytes(): Promise<Buffer> {
    return readFile(this.path)
  }

  /** The content as UTF-8 text (reads the whole file). */
  text(): Promise<string> {
    return readFile(this.path, 'utf8')
  }

  /** A stream of the content. */
  stream(): Readable {
    return createReadStream(this.path)
  }
}
