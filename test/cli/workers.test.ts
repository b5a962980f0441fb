/**
 * `--workers N`: requests are answered by several processes (`tsgi.multiprocess` true), and a
 * worker that dies is replaced.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, killAll, poll, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

const PID_APP = `export default (env: Record<string, unknown>) =>
  [200, ['Content-Type', 'text/plain'], [\`\${process.pid} \${env['tsgi.multiprocess']}\`]]`

/**
 * Requests on new connections until `count` pids not in `known` answered (bounded by a
 * deadline); every request must succeed. Returns the pids seen.
 */
async function pids(url: string, count: number, known = new Set<string>()): Promise<Set<string>> {
  const seen = new Set<string>()
  const deadline = Date.now() + 15_000
  while ([...seen].filter((p) => !known.has(p)).length < count) {
    if (Date.now() > deadline) throw new Error(`only these pids answered: ${[...seen].join(', ')}`)
    const { status, body } = await get(url)
    expect(status).toBe(200)
    const [pid, multiprocess] = body.split(' ')
    expect(multiprocess).toBe('true')
    seen.add(pid ?? '')
  }
  return seen
}

describe('tsgiup --workers', () => {
  it('answers from two worker pids and replaces a killed worker', async () => {
    const cwd = await tempApp({ 'app.ts': PID_APP })
    const t = tsgiup(['--workers', '2', '-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd })
    const url = await t.url()
    expect(t.lines[0]).toBe(
      `tsgiup: listening on ${url} (server node, env production, workers 2, pid ${t.child.pid})`,
    )
    const first = await pids(url, 2)
    expect(first.size).toBe(2)
    expect(first.has(String(t.child.pid))).toBe(false)

    const victim = [...first][0] ?? ''
    process.kill(Number(victim), 'SIGKILL')
    await t.waitForLine(
      new RegExp(`^tsgiup: worker ${victim} exited \\(signal SIGKILL\\); starting another$`),
    )
    // Every request succeeds while the new worker starts; one of them comes from it.
    const fresh = await pids(url, 1, first)
    expect([...fresh].some((p) => !first.has(p))).toBe(true)
    expect(fresh.has(victim)).toBe(false)

    t.child.kill('SIGTERM')
    expect(await t.exited).toBe(0)
    expect(t.lines).toContain('tsgiup: SIGTERM: shutting down 2 workers')
  })

  it('stops the cluster with the app file error, shown once', async () => {
    const cwd = await tempApp({ 'app.ts': 'throw new Error("no config")' })
    const t = tsgiup(['--workers', '3', '-p', '0'], { cwd })
    expect(await t.exited).toBe(1)
    expect(t.lines).toEqual(['tsgiup: app.ts failed to load: no config'])
  })

  it('combines with --reload', async () => {
    const cwd = await tempApp({ 'app.ts': PID_APP })
    const t = tsgiup(['--workers', '2', '-r', '-o', '127.0.0.1', '-p', '0', '-E', 'test'], { cwd })
    const url = await t.url()
    expect(t.lines[0]).toContain('(server node, env test, workers 2, reload, pid ')
    expect((await pids(url, 2)).size).toBe(2)
    await writeFile(join(cwd, 'app.ts'), 'export default () => [200, [], ["edited"]]')
    expect(await poll(async () => ((await get(url)).body === 'edited' ? true : undefined))).toBe(true)
  })
})
