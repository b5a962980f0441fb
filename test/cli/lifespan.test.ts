/**
 * tsgiup and the app's lifespan: startup runs before the ready line, once per process (also
 * with several addresses), in every `--workers` worker; a startup that throws is one line on
 * stderr and exit code 1; SIGTERM runs the shutdown before the process exits 0. The app files
 * sit in a directory without package.json, so tsx compiles them as CommonJS and they load their
 * own copy of the builder beside tsgiup's: the hooks' brand must hold across the two.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, killAll, root, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

const builderModule = JSON.stringify(join(root, 'builder/index.ts'))

/** An app file whose lifespan appends `startup <pid>` and `shutdown <pid>` lines to life.log. */
const LOGGING_APP = `
import { appendFileSync } from 'node:fs'
import { builder, lifespan } from ${builderModule}

const note = (what: string) => appendFileSync(new URL('./life.log', import.meta.url), \`\${what} \${process.pid}\\n\`)

export default builder(
  lifespan({ startup: () => note('startup'), shutdown: async () => note('shutdown') }),
  () => [200, ['Content-Type', 'text/plain'], [String(process.pid)]],
)
`

/** An app file whose startup throws `message`. */
function failingApp(message: string): string {
  return `
import { builder, lifespan } from ${builderModule}

export default builder(
  lifespan({ startup: async () => { throw new Error(${JSON.stringify(message)}) } }),
  () => [200, [], ['never']],
)
`
}

async function lifeLog(cwd: string): Promise<string[]> {
  const text = await readFile(join(cwd, 'life.log'), 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line !== '')
}

describe('tsgiup and lifespan', () => {
  it('runs startup before the ready line and shutdown on SIGTERM, then exits 0', async () => {
    const cwd = await tempApp({ 'app.ts': LOGGING_APP })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd })
    const url = await t.url()
    const pid = t.child.pid
    expect(await lifeLog(cwd)).toEqual([`startup ${pid}`])
    expect(await get(url)).toEqual({ status: 200, body: String(pid) })
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
    expect(await lifeLog(cwd)).toEqual([`startup ${pid}`, `shutdown ${pid}`])
  })

  it('runs the hooks once per process when it listens on several addresses', async () => {
    const cwd = await tempApp({ 'app.ts': LOGGING_APP })
    const t = tsgiup(['-l', '127.0.0.1:0', '-l', 'app.sock', '-E', 'production'], { cwd })
    await t.url()
    const pid = t.child.pid
    expect(await lifeLog(cwd)).toEqual([`startup ${pid}`])
    t.child.kill('SIGINT')
    expect(await t.exited).toBe(0)
    expect(await lifeLog(cwd)).toEqual([`startup ${pid}`, `shutdown ${pid}`])
  })

  it('exits 1 with one line on stderr when startup throws', async () => {
    const cwd = await tempApp({ 'app.ts': failingApp('no database\n  at config') })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual(['tsgiup: app.ts startup failed: no database at config'])
  })

  it('runs startup in each --workers worker, and shutdown in each on SIGTERM', async () => {
    const cwd = await tempApp({ 'app.ts': LOGGING_APP })
    const t = tsgiup(['--workers', '2', '-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd })
    await t.url()
    const started = await lifeLog(cwd)
    expect(started).toHaveLength(2)
    const pids = started.map((line) => line.replace(/^startup /, ''))
    expect(new Set(pids).size).toBe(2)
    expect(pids).not.toContain(String(t.child.pid))
    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
    const shutdowns = (await lifeLog(cwd)).filter((line) => line.startsWith('shutdown '))
    expect(shutdowns.map((line) => line.replace(/^shutdown /, '')).sort()).toEqual([...pids].sort())
  })

  it('stops the cluster with a worker startup failure, shown once', async () => {
    const cwd = await tempApp({ 'app.ts': failingApp('no database') })
    const t = tsgiup(['--workers', '2', '-p', '0', '-E', 'production'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual(['tsgiup: app.ts startup failed: no database'])
  })
})
