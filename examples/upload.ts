/**
 * File uploads: an HTML form posts files as `multipart/form-data`; TsgiRequest streams them to
 * temporary files (removed after the response) and the page lists each file's name and size.
 *
 * Run it: `tsgiup examples/upload.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/upload.ts`).
 * Open http://localhost:5000/, or `curl -F file=@README.md http://localhost:5000/`.
 *
 * Limits: files up to 10 MiB, at most 5 of them; past that TsgiRequest throws an `HttpError`
 * 413, which HTTPExceptions turns into a response.
 */
import { type App, TsgiRequest, TsgiResponse } from 'tsgi'
import { builder, enable } from 'tsgi/builder'

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const page = (content: string): string =>
  '<!doctype html><title>tsgi upload</title><h1>Upload files</h1>' +
  '<form method="post" enctype="multipart/form-data">' +
  '<p><input type="file" name="file" multiple> <input name="note" placeholder="a note"></p>' +
  `<p><button>Upload</button></p></form>${content}`

const upload: App = async (env) => {
  const req = new TsgiRequest(env, { maxFileSize: 10 * 1024 * 1024, maxFiles: 5 })
  if (req.method === 'GET' || req.method === 'HEAD') return TsgiResponse.html(page('')).finalize()
  if (req.method !== 'POST') {
    return new TsgiResponse(405, { Allow: 'GET, HEAD, POST' }, 'Method Not Allowed').finalize()
  }
  const files = (await req.uploads()).getAll('file')
  const note = await req.param('note')
  const items = files.map(
    (f) => `<li><b>${escapeHtml(f.filename)}</b>: ${f.size} bytes, ${escapeHtml(f.contentType)}</li>`,
  )
  const list = items.length > 0 ? `<ul>${items.join('')}</ul>` : '<p>No file was sent.</p>'
  const noted = note ? `<p>Note: ${escapeHtml(note)}</p>` : ''
  return TsgiResponse.html(page(`<h2>Received</h2>${list}${noted}`)).finalize()
}

export const app = builder(enable('HTTPExceptions'), upload)

export default app
