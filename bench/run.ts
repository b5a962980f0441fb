/**
 * The benchmark suite in one run: every target as a ratio against references measured in the
 * same run, each server in its own process pinned to core 1, the load generator (wrk by
 * default; h2load for HTTP/2) on core 0, rounds interleaved over all cases, the median kept
 * (see bench/load.ts). The servers load the built package (`dist/`), as users run it: a copy
 * taken when the run begins, so a rebuild during the run cannot mix two builds into one report.
 *
 * Groups: hello world (raw node:http, tsgi, Fastify, h3, Hono, Express), three pass-through
 * middleware, a four-chunk streaming body, a 64 KiB static file (hand-written node, tsgi's
 * Static, h3's serveStatic), a middleware stack (AccessLog + ETag + Runtime + Session against the
 * same in h3), HTTP/2 hello world (raw node:http2, tsgi), and 1 GiB over HTTP/2 to a slow
 * client with the server's RSS sampled. It ends with one line per target: figure, goal, met.
 *
 * Usage: npm run bench [-- --duration 5 --rounds 5 --warmup 1 --connections 50 --streams 10
 *        --engine wrk|autocannon --groups hello,middleware,streaming,static,stack,h2,h2-memory
 *        --slow-mib-per-s 64]
 */
import { rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type Case,
  describeRun,
  type Engine,
  type Expectation,
  get,
  hasWrk,
  pinLoadGenerator,
  type Reference,
  type Results,
  ratio,
  referenceRps,
  runRounds,
  snapshotBuild,
  startServer,
  stopServer,
  table,
} from './load.js'
import { mib, type SlowRead, slowRead } from './slow-client.js'
import { BIG_FILE, makeStaticRoot, SMALL_FILE } from './static-files.js'

const GROUP_IDS = ['hello', 'middleware', 'streaming', 'static', 'stack', 'h2', 'h2-memory'] as const
type GroupId = (typeof GROUP_IDS)[number]

const { values } = parseArgs({
  options: {
    // 16 cases x 5 rounds x (5 s + 1 s warm-up + start) and two 16 s slow reads: about 10 minutes
    // here. Five short rounds rather than three long ones: the median then survives two rounds
    // disturbed by something else on the machine.
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    pipelining: { type: 'string', default: '1' },
    streams: { type: 'string', default: '10' },
    engine: { type: 'string', default: hasWrk() ? 'wrk' : 'autocannon' },
    groups: { type: 'string', default: GROUP_IDS.join(',') },
    'slow-mib-per-s': { type: 'string', default: '64' },
  },
})
const opts = {
  engine: values.engine as Engine,
  duration: Number(values.duration),
  rounds: Number(values.rounds),
  warmup: Number(values.warmup),
  connections: Number(values.connections),
  pipelining: Number(values.pipelining),
  streams: Number(values.streams),
}
const groups = new Set(values.groups.split(','))
const unknown = [...groups].filter((g) => !(GROUP_IDS as readonly string[]).includes(g))
if (unknown.length > 0) {
  throw new TypeError(`bench: unknown group ${unknown.join(', ')} (known: ${GROUP_IDS.join(', ')})`)
}
if (opts.engine !== 'wrk' && opts.engine !== 'autocannon') {
  throw new TypeError(`bench: --engine must be wrk or autocannon, got ${opts.engine}`)
}

const began = performance.now()
const [loadAtStart] = loadavg()
pinLoadGenerator()
const build = await snapshotBuild()
const { root, small } = await makeStaticRoot()
const env = { TSGI_BENCH_ROOT: root }

const hello = 'Hello, World!'
const helloAnswer: Expectation = {
  status: 200,
  body: hello,
  headers: { 'content-type': 'text/plain', 'content-length': '13' },
}
const chunkedAnswer: Expectation = {
  status: 200,
  body: hello,
  headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
}
const fileAnswer: Expectation = {
  status: 200,
  body: small,
  headers: { 'content-type': 'application/octet-stream', 'content-length': String(small.length) },
}
const stackAnswer: Expectation = {
  status: 200,
  body: hello,
  headers: { 'content-type': 'text/plain', etag: true, 'x-runtime': true, 'set-cookie': true },
}

/**
 * Takes a session cookie from a first request, then checks that a request carrying it gets the
 * same session back (the store was read, not a new session made); returns the Cookie header.
 */
async function sessionCookie(port: number): Promise<Record<string, string>> {
  const first = await get(port, '/')
  const cookie = first.headers['set-cookie']?.split(';')[0]
  if (!cookie) throw new Error('the first answer set no session cookie')
  const again = (await get(port, '/', { cookie })).headers['set-cookie']?.split(';')[0]
  if (again !== cookie)
    throw new Error(`a request with ${cookie} got ${again ?? 'no cookie'}: the session was not kept`)
  return { cookie }
}

const server = (script: string, name: string) => () =>
  startServer(join(build.dir, 'bench', script), [name], env)

interface Group {
  readonly id: GroupId
  readonly title: string
  readonly cases: readonly Case[]
  readonly refs: readonly Reference[]
}

const RAW: Reference = { label: 'raw node:http', names: ['raw'] }
const PEERS: Reference = { label: 'fastest of Fastify/h3/Hono', names: ['fastify', 'h3', 'hono'] }

const GROUPS: readonly Group[] = [
  {
    id: 'hello',
    title: 'Hello world, HTTP/1.1',
    refs: [RAW, PEERS],
    cases: [
      { name: 'raw', label: 'raw node:http' },
      { name: 'array', label: 'tsgi serve(), array body' },
      { name: 'fastify', label: 'Fastify' },
      { name: 'h3', label: 'h3 (serve, srvx)' },
      { name: 'hono', label: 'Hono (@hono/node-server)' },
      { name: 'express', label: 'Express' },
    ].map((c) => ({ ...c, start: server('servers.ts', c.name), expect: helloAnswer })),
  },
  {
    id: 'middleware',
    title: 'Three pass-through middleware, HTTP/1.1',
    refs: [RAW, { label: 'tsgi array body', names: ['array'] }],
    cases: [
      {
        name: 'middleware3',
        label: 'tsgi builder(enable(mw) x3, app)',
        start: server('servers.ts', 'middleware3'),
        expect: helloAnswer,
      },
    ],
  },
  {
    id: 'streaming',
    title: 'A body in four chunks, HTTP/1.1 (chunked)',
    refs: [{ label: 'raw node:http write x3 + end', names: ['raw-chunks'] }],
    cases: [
      { name: 'raw-chunks', label: 'raw node:http, res.write x3 + res.end' },
      { name: 'iterable', label: 'tsgi async-iterable body, 4 chunks (generator function made once)' },
      {
        name: 'iterable-inline',
        label: 'tsgi async-iterable body, 4 chunks (generator function made per request)',
      },
    ].map((c) => ({ ...c, start: server('servers.ts', c.name), expect: chunkedAnswer })),
  },
  {
    id: 'static',
    title: 'A 64 KiB static file, HTTP/1.1',
    refs: [
      { label: 'hand-written node', names: ['static-raw'] },
      { label: 'h3 serveStatic', names: ['static-h3'] },
    ],
    cases: [
      { name: 'raw', label: 'hand-written node:http (fs.stat + createReadStream().pipe)' },
      { name: 'tsgi', label: "tsgi builder(enable('Static'), notFound)" },
      { name: 'h3', label: 'h3 serveStatic (node:fs)' },
    ].map((c) => ({
      name: `static-${c.name}`,
      label: c.label,
      start: server('static-servers.ts', c.name),
      path: SMALL_FILE,
      expect: fileAnswer,
    })),
  },
  {
    id: 'stack',
    title: 'AccessLog + ETag + Runtime + Session (memory store), session cookie on every request',
    refs: [{ label: 'h3, same stack', names: ['stack-h3'] }],
    cases: [
      { name: 'tsgi', label: 'tsgi builder (built-in middleware)' },
      { name: 'h3', label: 'h3, the same as h3 middleware' },
    ].map((c) => ({
      name: `stack-${c.name}`,
      label: c.label,
      start: server('stack-servers.ts', c.name),
      expect: stackAnswer,
      prepare: sessionCookie,
    })),
  },
  {
    id: 'h2',
    title: `Hello world, HTTP/2 (h2c, h2load -c ${opts.connections} -m ${opts.streams})`,
    refs: [{ label: 'raw node:http2', names: ['h2-raw'] }],
    cases: [
      { name: 'raw', label: 'raw node:http2, stream.respond + stream.end' },
      { name: 'tsgi', label: 'tsgi/server/http2 serve(), array body' },
    ].map((c) => ({
      name: `h2-${c.name}`,
      label: c.label,
      start: server('h2-servers.ts', c.name),
      protocol: 'h2c' as const,
      expect: helloAnswer,
    })),
  },
]

/** A ratio target of a group: `of` over the reference, at least `min`. */
interface RatioTarget {
  readonly group: GroupId
  readonly label: string
  readonly of: string
  readonly against: Reference
  readonly min: number
}

const TARGETS: readonly RatioTarget[] = [
  { group: 'hello', label: 'hello: tsgi serve() vs raw node:http', of: 'array', against: RAW, min: 0.97 },
  {
    group: 'hello',
    label: 'hello: tsgi serve() vs fastest of Fastify/h3/Hono',
    of: 'array',
    against: PEERS,
    min: 1.0,
  },
  {
    group: 'middleware',
    label: 'three pass-through middleware vs raw node:http',
    of: 'middleware3',
    against: RAW,
    min: 0.95,
  },
  {
    group: 'streaming',
    label: 'async-iterable body, 4 chunks, vs raw res.write x3 + res.end',
    of: 'iterable',
    against: { label: 'raw', names: ['raw-chunks'] },
    min: 0.85,
  },
  {
    group: 'static',
    label: 'static 64 KiB vs hand-written node',
    of: 'static-tsgi',
    against: { label: 'hand-written', names: ['static-raw'] },
    min: 0.9,
  },
  {
    group: 'static',
    label: 'static 64 KiB vs h3 serveStatic',
    of: 'static-tsgi',
    against: { label: 'h3', names: ['static-h3'] },
    min: 1.1,
  },
  {
    group: 'stack',
    label: 'AccessLog + ETag + Runtime + Session vs h3',
    of: 'stack-tsgi',
    against: { label: 'h3', names: ['stack-h3'] },
    min: 1.3,
  },
  {
    group: 'h2',
    label: 'HTTP/2 hello vs raw node:http2',
    of: 'h2-tsgi',
    against: { label: 'raw', names: ['h2-raw'] },
    min: 0.9,
  },
]

const chosen = GROUPS.filter((g) => groups.has(g.id))
// The chosen groups' cases, and any case of another group that one of their ratios is taken against.
const referenced = new Set(chosen.flatMap((g) => g.refs.flatMap((ref) => ref.names)))
const toRun = GROUPS.flatMap((g) => g.cases).filter(
  (c) => chosen.some((g) => g.cases.includes(c)) || referenced.has(c.name),
)
let results: Results = { rps: new Map(), failed: new Map() }
const memory = new Map<string, SlowRead | string>()
try {
  results = await runRounds(toRun, opts)
  if (groups.has('h2-memory')) {
    for (const name of ['raw-file', 'tsgi-file']) memory.set(name, await slowH2(name))
  }
} finally {
  await rm(root, { recursive: true, force: true })
  await build.remove()
}

console.log(`\n${describeRun(opts)}`)
console.log(
  `machine load before the run (1-min average): ${loadAtStart?.toFixed(2)}; above ~0.2, something else competes for the cores\n`,
)
for (const g of chosen) console.log(`### ${g.title}\n\n${table(g.cases, results, g.refs)}\n`)
if (groups.has('h2-memory')) {
  console.log(`### 1 GiB over HTTP/2 (h2c) to a client reading ${values['slow-mib-per-s']} MiB/s\n`)
  console.log('| server | read | server RSS before | peak | growth |\n|---|---:|---:|---:|---:|')
  for (const [name, label] of [
    ['raw-file', 'raw node:http2, createReadStream().pipe(stream)'],
    ['tsgi-file', 'tsgi/server/http2, fileBody()'],
  ] as const) {
    const r = memory.get(name)
    if (typeof r === 'string' || r === undefined)
      console.log(`| ${label} | failed: ${r ?? 'not run'} | | | |`)
    else
      console.log(
        `| ${label} | ${mib(r.bytes)} MiB in ${r.seconds.toFixed(1)} s | ${mib(r.rssBefore)} MiB | ` +
          `${mib(r.rssPeak)} MiB | ${mib(r.rssPeak - r.rssBefore)} MiB |`,
      )
  }
  console.log('')
}

console.log('### Targets\n\n| target | figure | goal | |\n|---|---:|---:|---|')
for (const t of TARGETS.filter((target) => groups.has(target.group))) {
  const rps = results.rps.get(t.of) ?? 0
  const ref = referenceRps(results, t.against)
  const failed = [t.of, ...t.against.names].filter((name) => results.failed.has(name))
  const why = failed.map((name) => `${name}: ${results.failed.get(name)}`).join('; ')
  const verdict =
    rps > 0 && ref.rps > 0
      ? `${rps / ref.rps >= t.min ? 'met' : 'missed'}${why ? ` (without ${why})` : ''}`
      : `not measured${why ? ` (${why})` : ''}`
  console.log(`| ${t.label} | ${ratio(rps, ref.rps)} | ≥ ${t.min.toFixed(2)}× | ${verdict} |`)
}
if (groups.has('h2-memory')) {
  const r = memory.get('tsgi-file')
  const growth = typeof r === 'object' ? r.rssPeak - r.rssBefore : undefined
  const verdict =
    growth === undefined ? `not measured (${r ?? 'not run'})` : growth < 50 * 2 ** 20 ? 'met' : 'missed'
  console.log(
    `| 1 GiB to a slow HTTP/2 client: server RSS growth | ${growth === undefined ? 'n/a' : `${mib(growth)} MiB`} | < 50 MiB | ${verdict} |`,
  )
}
console.log(`\n(${((performance.now() - began) / 60_000).toFixed(1)} min)`)

/** One slow 1 GiB read over h2c from `name` (h2-servers.ts); the figures, or why it failed. */
async function slowH2(name: string): Promise<SlowRead | string> {
  try {
    const running = await server('h2-servers.ts', name)()
    try {
      const r = await slowRead(running, BIG_FILE, Number(values['slow-mib-per-s']), 'h2c')
      if (r.bytes !== 2 ** 30) throw new Error(`read ${r.bytes} bytes of ${2 ** 30}`)
      process.stderr.write(`h2 slow read ${name}: RSS growth ${mib(r.rssPeak - r.rssBefore)} MiB\n`)
      return r
    } finally {
      await stopServer(running)
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(`h2 slow read ${name}: FAILED: ${message}\n`)
    return message
  }
}
