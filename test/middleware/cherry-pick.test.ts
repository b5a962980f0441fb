/**
 * Cherry-picking: importing `tsgi/middleware/<name>` loads no other middleware (no other entry
 * file) and no optional dependency. Checked on the static import graph of each entry file (relative imports followed
 * through the sources; `import()` of an optional dependency is allowed, it loads on use).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const middlewareDir = join(root, 'middleware')
const entries = readdirSync(middlewareDir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.slice(0, -3))
const OPTIONAL = ['ioredis', 'ws']
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?[^'"]*?from\s+'([^']+)'/gm

/** Every file and package the entry reaches through static, value (not type-only) imports. */
function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const m of source.matchAll(STATIC_IMPORT)) {
      if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue
      const spec = m[1]!
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
    }
  }
  visit(join(middlewareDir, `${entry}.ts`))
  return { files, packages }
}

describe('cherry-picking a middleware', () => {
  it('finds the entry files', () => {
    expect(entries).toContain('static')
    expect(entries).toContain('session')
  })

  it.each(entries)('middleware/%s.ts loads no other middleware and no optional dependency', (entry) => {
    const { files, packages } = graph(entry)
    // Another middleware is another entry file; the parts in folders (the access-log format
    // compiler, the session states) are building blocks that siblings share by design.
    const others = [...files]
      .map((f) => relative(middlewareDir, f))
      .filter((f) => !f.startsWith('..') && !f.includes('/') && f !== `${entry}.ts`)
    expect(others).toEqual([])
    expect(OPTIONAL.filter((p) => packages.has(p))).toEqual([])
  })
})
