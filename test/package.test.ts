/**
 * The published package, tried as a new user would: `npm pack`, install the tarball into an
 * empty project, type-check an app under strict TypeScript, and serve it over real HTTP.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
let dir: string
let project: string

const appSource = `
import { builder, enable, enableIf, mount } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { testApp } from 'tsgi/test'
import { type App, type Middleware, headerSet, responseCb } from 'tsgi'

const stamp: Middleware = (app) => (env) =>
  responseCb(app(env), (res) => {
    headerSet(res[1], 'X-Stamp', 'yes')
  })

const hello: App = (env) => [200, ['Content-Type', 'text/plain'], [\`hello \${env.PATH_INFO}\`]]

export const app = builder(
  enable(stamp),
  enableIf((env) => env.REQUEST_METHOD === 'GET', stamp),
  mount('/hi', hello),
)

await testApp(app, async (fetch) => {
  const res = await fetch('/hi/there')
  if ((await res.text()) !== 'hello /there') throw new Error('testApp saw a wrong body')
})

const server = await serve(app, { port: 0, host: '127.0.0.1' })
process.stdout.write(\`\${server.url}\\n\`)
`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-pack-'))
  await run('npm', ['pack', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 2 ** 20 })
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error('npm pack wrote no tarball')
  project = join(dir, 'app')
  await mkdir(project)
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'fresh', private: true, type: 'module' }),
  )
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        outDir: 'out',
        types: ['node'],
      },
      include: ['app.ts'],
    }),
  )
  await writeFile(join(project, 'app.ts'), appSource)
  const ts = join(root, 'node_modules', 'typescript', 'package.json')
  const tsVersion = (await import(ts, { with: { type: 'json' } })).default.version as string
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      join(dir, tarball),
      `typescript@${tsVersion}`,
      '@types/node@^20.19.0',
    ],
    { cwd: project, maxBuffer: 16 * 2 ** 20 },
  )
}, 300_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the packed tarball in a fresh project', () => {
  it('type-checks an app under strict TypeScript', async () => {
    const tsc = join(project, 'node_modules', '.bin', 'tsc')
    await expect(run(tsc, ['-p', '.'], { cwd: project })).resolves.toBeDefined()
  }, 120_000)

  it('serves the compiled app over real HTTP', async () => {
    const child = spawn(process.execPath, ['out/app.js'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let stderr = ''
      child.stderr.on('data', (d) => {
        stderr += d
      })
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve)
        child.once('exit', (code) => reject(new Error(`app exited with ${code}: ${stderr}`)))
      })
      const res = await fetch(new URL('/hi/x', url))
      expect(res.status).toBe(200)
      expect(res.headers.get('x-stamp')).toBe('yes')
      expect(await res.text()).toBe('hello /x')
    } finally {
      child.kill()
    }
  }, 60_000)
})
