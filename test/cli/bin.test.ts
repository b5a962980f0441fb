/**
 * The `tsgiup` bin itself: a few lines with a node shebang, and, when the package is built,
 * the compiled `dist/src/cli/bin.js` (what `npm install` links as `tsgiup`) serving a .ts app.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { bin, get, killAll, root, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

const compiled = join(root, 'dist/src/cli/bin.js')

describe('the tsgiup bin', () => {
  it('is a few lines starting with a node shebang, and package.json names it', async () => {
    const source = await readFile(bin, 'utf8')
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(source.trim().split('\n').length).toBeLessThanOrEqual(8)
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>
    }
    expect(pkg.bin?.tsgiup).toBe('./dist/src/cli/bin.js')
  })

  it.skipIf(!existsSync(compiled))('compiled, serves a .ts app and exits 0 on SIGTERM', async () => {
    expect((await readFile(compiled, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true)
    const cwd = await tempApp({
      'app.ts': 'const body: string = "compiled bin"\nexport default () => [200, [], [body]]',
    })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd, command: [compiled] })
    expect(await get(await t.url())).toEqual({ status: 200, body: 'compiled bin' })
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
  })
})
