/**
 * The session benchmark: hello world with a per-session counter behind Session (memory store,
 * and Redis store on a real redis-server), as a ratio to the same app without Session, and
 * against Express + express-session (MemoryStore) in the same run. Every request carries a
 * valid session cookie taken from a first request, so each one loads, changes and saves its
 * session. Method as bench/run.ts: each server in its own process pinned to core 1 (taskset,
 * where present), autocannon pinned to core 0, interleaved rounds, the median reported.
 * Servers load tsgi from source (`--conditions=tsgi-source`).
 *
 * Usage: node --import tsx bench/session.ts [--duration 10 --rounds 3 --connections 50
 *        --cases plain,memory,redis,express-plain,express]
 * (one server: node --conditions=tsgi-source --import tsx bench/session.ts --serve <case> [redis url])
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { pinLoadGenerator, pinned } from './load.js'

const { values, positionals } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    cases: { type: 'string', default: 'plain,memory,redis,express-plain,express' },
    serve: { type: 'string' },
  },
  allowPositionals: true,
})

const labels: Record<string, string> = {
  plain: 'tsgi, no session',
  memory: 'tsgi + Session (memory store)',
  redis: 'tsgi + Session (Redis store)',
  'express-plain': 'Express, no session',
  express: 'Express + express-session (MemoryStore)',
}

/** Starts one server case in this process and prints its port. */
async function serveCase(name: string, redisUrl: string | undefined): Promise<void> {
  const hello = 'Hello, World!'
  if (name.startsWith('express')) {
    const express = (await import('express')).default
    const app = express()
    if (name === 'express') {
      const expressSession = (await import('express-session')).default
      app.use(
        expressSession({ secret: 'bench-secret-bench-secret', resave: false, saveUninitialized: false }),
      )
    }
    app.get('/', (req, res) => {
      const s = (req as unknown as { session?: Record<string, unknown> }).session
      if (s) s.count = (Number(s.count) || 0) + 1
      res.type('text/plain').send(hello)
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    process.stdout.write(`${(server.address() as { port: number }).port}\n`)
    return
  }
  const { serve } = await import('tsgi/server/node')
  const { session, memoryStore, redisStore } = await import('tsgi/middleware/session')
  type AppT = import('tsgi').App
  const app: AppT = (env) => {
    const s = env['tsgix.session']
    if (s) s.count = (Number(s.count) || 0) + 1
    return [200, ['Content-Type', 'text/plain'], [hello]]
  }
  const wrapped =
    name === 'plain'
      ? app
      : session({ store: name === 'redis' ? redisStore({ url: redisUrl ?? '' }) : memoryStore() })(app)
  const server = await serve(wrapped, { port: 0, host: '127.0.0.1' })
  process.stdout.write(`${server.port}\n`)
}

if (values.serve !== undefined) {
  await serveCase(values.serve, positionals[0])
} else {
  await runBench()
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  return port
}

async function firstLine(child: ChildProcess, what: string, match: (l: string) => boolean): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.on('line', (l) => {
      if (match(l)) {
        rl.close()
        child.stdout?.resume()
        resolve(l)
      }
    })
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before it was ready`)))
  })
}

async function runBench(): Promise<void> {
  const duration = Number(values.duration)
  const rounds = Number(values.rounds)
  const connections = Number(values.connections)
  const names = values.cases.split(',')
  const unknown = names.filter((name) => !(name in labels))
  if (unknown.length > 0) {
    throw new TypeError(
      `bench/session: unknown case ${unknown.join(', ')} (known: ${Object.keys(labels).join(', ')})`,
    )
  }
  const pin = pinned
  pinLoadGenerator()

  let redis: ChildProcess | undefined
  let redisUrl = ''
  const redisDir = mkdtempSync(join(tmpdir(), 'tsgi-bench-redis-'))
  if (names.includes('redis')) {
    const port = await freePort()
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    await firstLine(redis, 'redis-server', (l) => l.includes('Ready to accept connections'))
    redisUrl = `redis://127.0.0.1:${port}`
  }

  async function startCase(name: string): Promise<{ child: ChildProcess; port: number }> {
    const node = [
      process.execPath,
      '--conditions=tsgi-source',
      '--import',
      'tsx',
      'bench/session.ts',
      '--serve',
      name,
      redisUrl,
    ]
    const [cmd, ...args] = pin ? ['taskset', '-c', '1', ...node] : node
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await firstLine(child, `case ${name}`, () => true)
    return { child, port: Number(line) }
  }

  async function load(port: number, cookie: string | undefined, seconds: number) {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections,
      duration: seconds,
      headers: cookie ? { cookie } : {},
    })
    return { rps: result.requests.average, errors: result.errors + result.non2xx }
  }

  const results = new Map<string, number[]>()
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        const { child, port } = await startCase(name)
        const first = await fetch(`http://127.0.0.1:${port}/`)
        await first.text()
        const cookie = first.headers.getSetCookie()[0]?.split(';')[0]
        if (name !== 'plain' && name !== 'express-plain' && !cookie)
          throw new Error(`${name}: no session cookie`)
        await load(port, cookie, 2) // warm-up
        const r = await load(port, cookie, duration)
        child.kill()
        if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors or non-2xx answers`)
        results.set(name, [...(results.get(name) ?? []), r.rps])
        process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${Math.round(r.rps)} req/s\n`)
      }
    }
  } finally {
    redis?.kill()
    rmSync(redisDir, { recursive: true, force: true })
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const rps = (name: string) => median(results.get(name) ?? [])
  const ratio = (a: number, b: number) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a')
  console.log(
    `\n${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  )
  console.log(
    `autocannon: ${connections} connections, ${duration} s x ${rounds} rounds (median), ` +
      `server ${pin ? 'pinned to core 1, load to core 0' : 'not pinned'}, redis-server unpinned\n`,
  )
  console.log('| case | req/s | vs its framework without session | vs Express + express-session |')
  console.log('|---|---:|---:|---:|')
  for (const name of names) {
    const base = name.startsWith('express') ? rps('express-plain') : rps('plain')
    console.log(
      `| ${labels[name] ?? name} | ${Math.round(rps(name))} | ${ratio(rps(name), base)} | ${ratio(rps(name), rps('express'))} |`,
    )
  }
}
