/**
 * The FastCGI benchmark, two targets:
 *
 * - **through nginx**: `Hello, World!` from tsgi's FastCGI server (`tsgi/server/fastcgi`)
 *   behind nginx (`fastcgi_pass`, `fastcgi_keep_conn on`, an upstream `keepalive` pool)
 *   against the same app on tsgi's node server (`tsgi/server/node`) behind the same nginx
 *   (`proxy_pass`, HTTP/1.1 with `keepalive` to the upstream), both upstreams on 127.0.0.1
 *   TCP, and raw node:http behind the same proxy as a reference. wrk loads nginx; rounds
 *   interleave the cases (each round starts every server and nginx afresh), the median is
 *   kept, and the figure is FastCGI / node (goal ≥ 0.9×).
 * - **multiplexed**: 10,000 requests straight to the FastCGI server over 4 connections, 64 in
 *   flight on each (nginx never multiplexes), every answer checked (goal: 0 errors).
 *
 * Pinning, on the 2 cores here: nginx (`worker_processes 1`, no master process) and the app
 * server share core 1, wrk has core 0 to itself. Everything that serves a request is on the one
 * core, which is the limit (wrk on one core keeps well ahead of nginx plus any app server), so
 * the ratio is what a request costs the machine behind the client, nginx's part included, each
 * way. (With nginx on core 0 beside wrk instead, that core is the limit at about the same
 * req/s for every case and the app servers are not measured at all.) Each round reports the
 * CPU the app server and nginx used, and how busy each core was, over the measured seconds.
 *
 * Method as bench/run.ts: the servers load the built package (`dist/`, a copy taken when the
 * run begins; `npm run bench:fastcgi` builds first). With a case name as its argument this file
 * is one app server (`raw`, `node`, `fastcgi`), printing its port as its first line.
 *
 * The nginx started here is not test/server/nginx-fixture.ts's: this one needs upstream
 * blocks with keepalive pools, no access log, and taskset.
 *
 * Usage: npm run bench:fastcgi [-- --duration 5 --rounds 3 --warmup 1 --connections 50
 *        --targets nginx,multiplex]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { App } from 'tsgi'
import type { FcgiClient as FcgiClientType } from '../test/server/fastcgi-client.js'
import { listen, startNamedCase } from './case.js'
import {
  type Case,
  type Expectation,
  measure,
  median,
  pinLoadGenerator,
  pinned,
  type Running,
  snapshotBuild,
  startServer,
  stopServer,
  verify,
} from './load.js'

const { values, positionals } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    targets: { type: 'string', default: 'nginx,multiplex' },
  },
  allowPositionals: true,
})

const hello = 'Hello, World!'
const helloApp: App = () => [200, ['Content-Type', 'text/plain'], [hello]]
const local = { port: 0, host: '127.0.0.1' } as const

// ---------------------------------------------------------------------------------------------
// The app servers (`--serve <case>`)

/** A module of the package under test, by a specifier the type checker does not follow. */
async function serveOf(specifier: string): Promise<(app: App, o: typeof local) => Promise<{ port: number }>> {
  const mod = (await import(specifier)) as { serve: (app: App, o: typeof local) => Promise<{ port: number }> }
  return mod.serve
}

/** The app servers: run as `node --import tsx bench/fastcgi.ts <case>`. */
const serverCases: Record<string, () => Promise<number>> = {
  async raw() {
    return listen(
      createServer((_req, res) => {
        res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(hello.length)])
        res.end(hello)
      }),
    )
  },
  async node() {
    return (await (await serveOf('tsgi/server/node'))(helloApp, local)).port
  },
  async fastcgi() {
    return (await (await serveOf('tsgi/server/fastcgi'))(helloApp, local)).port
  },
}

// ---------------------------------------------------------------------------------------------
// nginx

function findNginx(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error('nginx not found (Debian package nginx)')
}

/** The params nginx passes to the FastCGI server: Debian's fastcgi_params, the app at the root. */
const FASTCGI_PARAMS = `
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SCRIPT_NAME "";
      fastcgi_param PATH_INFO $uri;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param DOCUMENT_URI $document_uri;
      fastcgi_param DOCUMENT_ROOT $document_root;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param REQUEST_SCHEME $scheme;
      fastcgi_param HTTPS $https if_not_empty;
      fastcgi_param GATEWAY_INTERFACE CGI/1.1;
      fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param REMOTE_PORT $remote_port;
      fastcgi_param SERVER_ADDR $server_addr;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param SERVER_NAME $server_name;`

type Upstream = 'proxy' | 'fastcgi'

function nginxConfig(dir: string, port: number, upstreamPort: number, how: Upstream): string {
  const location =
    how === 'fastcgi'
      ? `fastcgi_pass app;
      fastcgi_keep_conn on;${FASTCGI_PARAMS}`
      : `proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;`
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    location / {
      ${location}
    }
  }
}
`
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer()
  const port = await listen(server)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves once `port` accepts a connection; rejects when `child` exits first or 10 s pass. */
async function accepting(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('nginx exited before listening')
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within 10 s`)
    await new Promise((resolve) => setTimeout(resolve, 20)) // a polling interval
  }
}

interface Nginx {
  readonly child: ChildProcess
  readonly port: number
  stop(): Promise<void>
}

/** nginx on core 1 (with the app server) in front of the app server on `upstreamPort`. */
async function startNginx(upstreamPort: number, how: Upstream): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'tsgi-bench-nginx-'))
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, nginxConfig(dir, port, upstreamPort, how))
  const nginx = [findNginx(), '-e', join(dir, 'error.log'), '-p', dir, '-c', conf]
  const [cmd, ...args] = pinned ? ['taskset', '-c', '1', ...nginx] : nginx
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await accepting(port, child)
  } catch (err) {
    await stop()
    throw err
  }
  return { child, port, stop }
}

// ---------------------------------------------------------------------------------------------
// The driver

const CLK_TCK = 100

/** CPU seconds (user + system) process `pid` has used (stat(5) fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** Busy and total clock ticks of each core so far (/proc/stat's cpuN lines). */
function coreTicks(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const t = line.split(/\s+/).slice(1).map(Number)
      const total = t.reduce((a, b) => a + b, 0)
      // idle and iowait are fields 4 and 5
      return { busy: total - (t[3] ?? 0) - (t[4] ?? 0), total }
    })
}

/** Each core's busy share between two {@link coreTicks} readings. */
function coreBusy(before: ReturnType<typeof coreTicks>, after: ReturnType<typeof coreTicks>): number[] {
  return after.map((a, i) => {
    const b = before[i] ?? { busy: 0, total: 0 }
    return a.total > b.total ? (a.busy - b.busy) / (a.total - b.total) : 0
  })
}

interface ProxyCase {
  readonly name: string
  readonly label: string
  readonly server: string
  readonly how: Upstream
}

const CASES: readonly ProxyCase[] = [
  {
    name: 'fastcgi',
    label: 'nginx → tsgi/server/fastcgi (fastcgi_pass, keep-conn)',
    server: 'fastcgi',
    how: 'fastcgi',
  },
  {
    name: 'node',
    label: 'nginx → tsgi/server/node (proxy_pass, HTTP/1.1 keep-alive)',
    server: 'node',
    how: 'proxy',
  },
  {
    name: 'raw',
    label: 'nginx → raw node:http (proxy_pass, HTTP/1.1 keep-alive)',
    server: 'raw',
    how: 'proxy',
  },
]

const helloAnswer: Expectation = {
  status: 200,
  body: hello,
  headers: { 'content-type': 'text/plain', 'content-length': '13' },
}

interface Sample {
  readonly rps: number
  /** CPU used over the measured seconds, as a share of one core. */
  readonly appCpu: number
  readonly nginxCpu: number
  /** Each core's busy share over the measured seconds (whoever used it). */
  readonly cores: number[]
}

async function proxyRounds(script: string, opts: LoadSettings): Promise<Map<string, Sample[]>> {
  const all = new Map<string, Sample[]>()
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of CASES) {
      const tag = `round ${round + 1}/${opts.rounds} ${c.name}`
      let app: Running | undefined
      let nginx: Nginx | undefined
      try {
        app = await startServer(script, [c.server])
        nginx = await startNginx(app.port, c.how)
        const check: Case = {
          name: c.name,
          label: c.label,
          start: () => Promise.reject(),
          expect: helloAnswer,
        }
        if (round === 0) await verify(check, nginx.port, {})
        const load = { engine: 'wrk' as const, connections: opts.connections, pipelining: 1, path: '/' }
        if (opts.warmup > 0) await measure(nginx.port, { ...load, duration: opts.warmup })
        const appPid = app.child.pid!
        const nginxPid = nginx.child.pid!
        const before = [cpuSeconds(appPid), cpuSeconds(nginxPid)] as const
        const ticks = coreTicks()
        const r = await measure(nginx.port, { ...load, duration: opts.duration })
        const sample = {
          rps: r.rps,
          appCpu: (cpuSeconds(appPid) - before[0]) / opts.duration,
          nginxCpu: (cpuSeconds(nginxPid) - before[1]) / opts.duration,
          cores: coreBusy(ticks, coreTicks()),
        }
        all.set(c.name, [...(all.get(c.name) ?? []), sample])
        process.stderr.write(
          `${tag}: ${Math.round(r.rps)} req/s (CPU: app ${pct(sample.appCpu)}, nginx ${pct(sample.nginxCpu)}; ` +
            `cores busy ${sample.cores.map(pct).join(' ')})\n`,
        )
      } catch (err) {
        process.stderr.write(`${tag}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`)
      } finally {
        await nginx?.stop()
        if (app) await stopServer(app)
      }
    }
  }
  return all
}

const pct = (share: number) => `${Math.round(share * 100)}%`

/** 10,000 requests over 4 connections straight to the FastCGI server, 64 in flight on each. */
async function multiplexed(script: string): Promise<{ ok: number; errors: string[]; seconds: number }> {
  const { FcgiClient, paramsFor, parseCgi } = await import('../test/server/fastcgi-client.js')
  const app = await startServer(script, ['fastcgi'])
  const total = 10_000
  const errors: string[] = []
  let next = 0
  let ok = 0
  const began = performance.now()
  try {
    const connections = await Promise.all([0, 1, 2, 3].map(() => FcgiClient.open(app.port)))
    const lane = async (c: FcgiClientType, id: number) => {
      for (let n = next++; n < total; n = next++) {
        const reply = await c.request(id, paramsFor('GET', `/?n=${n}`))
        const res = parseCgi(reply.stdout)
        if (reply.protocolStatus === 0 && res.status === 200 && res.body.toString() === hello) ok++
        else errors.push(`request ${n}: protocol status ${reply.protocolStatus}, HTTP ${res.status}`)
      }
    }
    await Promise.all(connections.flatMap((c) => Array.from({ length: 64 }, (_, i) => lane(c, i + 1))))
    for (const c of connections) c.close()
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err))
  } finally {
    await stopServer(app)
  }
  return { ok, errors, seconds: (performance.now() - began) / 1000 }
}

interface LoadSettings {
  readonly duration: number
  readonly rounds: number
  readonly warmup: number
  readonly connections: number
}

async function drive(): Promise<void> {
  const opts: LoadSettings = {
    duration: Number(values.duration),
    rounds: Number(values.rounds),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
  }
  const targets = new Set(values.targets.split(','))
  const [loadAtStart] = loadavg()
  pinLoadGenerator()
  const build = await snapshotBuild()
  const script = join(build.dir, 'bench', 'fastcgi.ts')
  let samples = new Map<string, Sample[]>()
  let mux: Awaited<ReturnType<typeof multiplexed>> | undefined
  try {
    if (targets.has('nginx')) samples = await proxyRounds(script, opts)
    if (targets.has('multiplex')) mux = await multiplexed(script)
  } finally {
    await build.remove()
  }

  console.log(
    `\n${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  )
  console.log(
    `wrk -t1 -c${opts.connections} against nginx (worker_processes 1); ${opts.duration} s x ${opts.rounds} rounds (median) after ${opts.warmup} s warm-up; ` +
      (pinned ? 'nginx and the app server pinned to core 1, wrk to core 0' : 'not pinned'),
  )
  console.log(`machine load before the run (1-min average): ${loadAtStart?.toFixed(2)}\n`)
  const rpsOf = (name: string) => median((samples.get(name) ?? []).map((s) => s.rps))
  const node = rpsOf('node')
  const ratio = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a')
  const goals: string[] = []
  if (targets.has('nginx')) {
    console.log('### Hello world through nginx\n')
    console.log(
      '| case | req/s | vs nginx → tsgi/server/node | app CPU | nginx CPU |\n|---|---:|---:|---:|---:|',
    )
    for (const c of CASES) {
      const s = samples.get(c.name) ?? []
      const rps = rpsOf(c.name)
      const cpu = (pick: (x: Sample) => number) => (s.length ? pct(median(s.map(pick))) : 'n/a')
      console.log(
        `| ${c.label} | ${rps > 0 ? Math.round(rps) : 'failed'} | ${ratio(rps, node)} | ${cpu((x) => x.appCpu)} | ${cpu((x) => x.nginxCpu)} |`,
      )
    }
    const fastcgi = rpsOf('fastcgi')
    const met = fastcgi > 0 && node > 0 ? (fastcgi / node >= 0.9 ? 'met' : 'missed') : 'not measured'
    goals.push(
      `| hello: nginx → FastCGI vs nginx → proxy_pass → node | ${ratio(fastcgi, node)} | ≥ 0.90× | ${met} |`,
    )
    console.log('')
  }
  if (mux !== undefined) {
    console.log(
      `### 10,000 requests multiplexed over 4 FastCGI connections (64 in flight each)\n\n` +
        `${mux.ok} answered right, ${mux.errors.length} errors, in ${mux.seconds.toFixed(2)} s` +
        `${mux.errors.length ? `; first: ${mux.errors[0]}` : ''}\n`,
    )
    const met = mux.ok === 10_000 && mux.errors.length === 0 ? 'met' : 'missed'
    goals.push(`| 10,000 requests over 4 FastCGI connections: errors | ${mux.errors.length} | 0 | ${met} |`)
  }
  console.log(`### Targets\n\n| target | figure | goal | |\n|---|---:|---:|---|\n${goals.join('\n')}`)
}

if (positionals.length > 0) await startNamedCase(serverCases)
else await drive()
