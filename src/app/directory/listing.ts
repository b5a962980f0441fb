/**
 * The HTML index page of the Directory app: one row per entry (name, size, type, modification
 * time), a parent-directory link first, names escaped for HTML and percent-encoded in links.
 */
import type { Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { lookup } from 'mime-types'
import { escapeHtml } from '../../html.js'

/** One row of the listing. */
export interface Entry {
  readonly href: string
  readonly name: string
  readonly size: string
  readonly type: string
  readonly mtime: string
}

/** A decoded URL path percent-encoded segment by segment (slashes kept). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

/** The entries of the directory at `dir`, sorted by name; `url` is its URL path (ending in `/`, encoded). */
export async function readEntries(dir: string, url: string): Promise<Entry[]> {
  const names = (await readdir(dir)).sort()
  const stats = await Promise.all(
    names.map((name) => stat(join(dir, name)).catch((): undefined => undefined)),
  )
  const parent: Entry = { href: '../', name: 'Parent Directory', size: '', type: '', mtime: '' }
  return [parent, ...names.map((name, i) => entryOf(name, url, stats[i]))]
}

function entryOf(name: string, url: string, info: Stats | undefined): Entry {
  const isDir = info?.isDirectory() ?? false
  const slash = isDir ? '/' : ''
  return {
    href: url + encodeURIComponent(name) + slash,
    name: name + slash,
    size: info === undefined || isDir ? '' : String(info.size),
    type: info === undefined ? '' : isDir ? 'directory' : lookup(name) || 'text/plain',
    mtime: info === undefined ? '' : new Date(info.mtimeMs).toUTCString(),
  }
}

/** The index page for `title` (e.g. `Index of /docs/`) with `entries`. */
export function renderIndex(title: string, entries: readonly Entry[]): string {
  const t = escapeHtml(title)
  const rows = entries
    .map(
      (e) =>
        `<tr><td class="name"><a href="${escapeHtml(e.href)}">${escapeHtml(e.name)}</a></td>` +
        `<td class="size">${escapeHtml(e.size)}</td><td class="type">${escapeHtml(e.type)}</td>` +
        `<td class="mtime">${escapeHtml(e.mtime)}</td></tr>`,
    )
    .join('\n')
  return `<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>${t}</title>
<style>
table { width: 100%; border-collapse: collapse; }
.name { text-align: left; }
.size, .mtime { text-align: right; }
.type { width: 11em; }
.mtime { width: 16em; }
</style>
</head><body>
<h1>${t}</h1>
<hr>
<table>
<tr><th class="name">Name</th><th class="size">Size</th><th class="type">Type</th><th class="mtime">Last Modified</th></tr>
${rows}
</table>
<hr>
</body></html>
`
}
