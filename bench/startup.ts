/**
 * tsgiup's startup time: from spawning `tsgiup app.ts` (a TypeScript hello world in a temp
 * directory) to the end of its first answered request, the median of several runs. Runs the
 * compiled bin (`dist/src/cli/bin.js`, as users get it) when it is built, and the source bin
 * through tsx as well. The target is under 1 s.
 *
 * Usage: node --import tsx bench/startup.ts [--runs 5]
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } })
const runs = Number(values.runs)
const root = resolve(import.meta.dirname, '..')
const compiled = join(root, 'dist/src/cli/bin.js')

const APP = `const app = (env: { PATH_INFO: string }): [number, string[], string[]] =>
  [200, ['Content-Type', 'text/plain'], [\`hello \${env.PATH_INFO}\`]]
export default app
`

function get(url: string): Promise<number> {
  return new Promise((done, fail) => {
    request(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => done(res.statusCode ?? 0))
    })
      .on('error', fail)
      .end()
  })
}

/** Milliseconds from spawn to the end of the first answered request. */
async function once(command: readonly string[], cwd: string): Promise<number> {
  const start = performance.now()
  const child = spawn(
    process.execPath,
    [...command, '-E', 'production', '-o', '127.0.0.1', '-p', '0', 'app.ts'],
    {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const exited = new Promise((done) => child.on('exit', done))
  try {
    const url = await new Promise<string>((done, fail) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        const m = /^tsgiup: listening on (\S+) /.exec(line)
        if (m?.[1]) done(m[1])
      })
      child.on('exit', () => fail(new Error('tsgiup exited before it was ready')))
    })
    const status = await get(url)
    if (status !== 200) throw new Error(`tsgiup answered ${status}`)
    return performance.now() - start
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

const cwd = await mkdtemp(join(tmpdir(), 'tsgiup-startup-'))
await writeFile(join(cwd, 'app.ts'), APP)
const tsx = join(root, 'node_modules/tsx/dist/loader.mjs')
const cases: [string, string[]][] = [
  ['source bin through tsx', ['--import', tsx, join(root, 'src/cli/bin.ts')]],
]
if (existsSync(compiled)) cases.unshift(['compiled bin (dist)', [compiled]])
else process.stdout.write('dist/src/cli/bin.js is not built (npm run build): measuring the source bin only\n')

for (const [label, command] of cases) {
  await once(command, cwd) // warm the disk cache
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push(await once(command, cwd))
  const shown = times.map((t) => t.toFixed(0)).join(', ')
  process.stdout.write(
    `tsgiup app.ts, spawn to first answered request, ${label}: median ${median(times).toFixed(0)} ms (runs: ${shown})\n`,
  )
}
await rm(cwd, { recursive: true, force: true })
