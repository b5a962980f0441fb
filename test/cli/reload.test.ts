/** `--reload` and `--reload-paths`: an edited file is served without a restart by hand. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, killAll, poll, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

const version = (v: string) => `export default () => [200, ['Content-Type', 'text/plain'], ['${v}']]`

/** Polls `url` until it answers `body`. */
const until = (url: string, body: string) =>
  poll(async () => ((await get(url)).body === body ? body : undefined))

describe('tsgiup --reload', () => {
  it('serves the edited app file, and recovers from a broken edit', async () => {
    const cwd = await tempApp({ 'app.ts': version('v1') })
    const t = tsgiup(['-r', '-o', '127.0.0.1', '-p', '0', '-E', 'test', '--access-log', 'access.log'], {
      cwd,
    })
    const url = await t.url()
    expect(t.lines[0]).toBe(`tsgiup: listening on ${url} (server node, env test, reload, pid ${t.child.pid})`)
    expect((await get(url)).body).toBe('v1')

    await writeFile(join(cwd, 'app.ts'), version('v2'))
    expect(await until(url, 'v2')).toBe('v2')
    expect(await t.waitForLine(/^tsgiup: app\.ts changed; restarting$/)).toBeTruthy()

    await writeFile(join(cwd, 'app.ts'), 'throw new Error("half-typed")')
    await t.waitForLine(/^tsgiup: app\.ts failed to load: half-typed$/)
    await t.waitForLine(/waiting for a change to restart$/)
    await writeFile(join(cwd, 'app.ts'), version('v3'))
    expect(await until(url, 'v3')).toBe('v3')

    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
    // The access log is written inside the watched directory, yet never triggers a restart.
    expect(t.lines.filter((l) => l.includes('changed; restarting'))).toHaveLength(3)
  })

  it('restarts on a change in a module the app imports, in a subdirectory', async () => {
    const cwd = await tempApp({
      'package.json': '{"type":"module"}',
      'app.ts': `import { word } from './lib/word.ts'\nexport default () => [200, [], [word]]`,
    })
    await mkdir(join(cwd, 'lib'))
    await writeFile(join(cwd, 'lib/word.ts'), 'export const word: string = "before"')
    const t = tsgiup(['-r', '-o', '127.0.0.1', '-p', '0', '-E', 'test'], { cwd })
    const url = await t.url()
    expect((await get(url)).body).toBe('before')
    await writeFile(join(cwd, 'lib/word.ts'), 'export const word: string = "after"')
    expect(await until(url, 'after')).toBe('after')
  })

  it('-R watches paths outside the app directory', async () => {
    const cwd = await tempApp({ 'config.json': '{"word":"one"}' })
    await mkdir(join(cwd, 'app'))
    await writeFile(
      join(cwd, 'app/app.ts'),
      `import { readFileSync } from 'node:fs'
const { word } = JSON.parse(readFileSync(${JSON.stringify(join(cwd, 'config.json'))}, 'utf8'))
export default () => [200, [], [word]]`,
    )
    const t = tsgiup(['-R', 'config.json', '-o', '127.0.0.1', '-p', '0', '-E', 'test', 'app/app.ts'], { cwd })
    const url = await t.url()
    expect((await get(url)).body).toBe('one')
    await writeFile(join(cwd, 'config.json'), '{"word":"two"}')
    expect(await until(url, 'two')).toBe('two')
  })
})
