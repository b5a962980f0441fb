/**
 * The benchmark: raw node:http against the same hello world through tsgi's server, in one run.
 * The servers load the built package (`dist/`), as users run it. Each case runs in its own
 * process pinned to one core (taskset, where present) while autocannon loads it from this
 * process, pinned to the other. Rounds are interleaved so
 * drift on the machine hits every case alike; the median of the rounds is reported, with the
 * ratio to raw node:http of the same run.
 *
 * Usage: npm run bench [-- --duration 10 --rounds 3 --connections 50 --cases raw,array]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    pipelining: { type: 'string', default: '1' },
    cases: { type: 'string', default: 'raw,array,iterable,middleware3' },
  },
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const pipelining = Number(values.pipelining)
const names = values.cases.split(',')

const labels: Record<string, string> = {
  raw: 'raw node:http',
  array: 'serve(), array body',
  iterable: 'serve(), async-iterable body',
  middleware3: 'serve(), 3 pass-through middleware (builder)',
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const pin = hasTaskset() && cpus().length >= 2
if (pin) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' })

async function startCase(name: string): Promise<{ child: ChildProcess; port: number }> {
  const node = [process.execPath, '--import', 'tsx', 'bench/servers.ts', name]
  const [cmd, ...args] = pin ? ['taskset', '-c', '1', ...node] : node
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => {
      rl.close()
      resolve(l)
    })
    child.once('exit', (code) => reject(new Error(`case ${name} exited with ${code} before listening`)))
  })
  return { child, port: Number(line) }
}

async function load(port: number, seconds: number): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    pipelining,
    duration: seconds,
  })
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const results = new Map<string, number[]>()
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    const { child, port } = await startCase(name)
    await load(port, 2) // warm-up: JIT, connection setup
    const r = await load(port, duration)
    child.kill()
    if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors or non-2xx answers`)
    results.set(name, [...(results.get(name) ?? []), r.rps])
    process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${Math.round(r.rps)} req/s\n`)
  }
}

const raw = median(results.get('raw') ?? [])
const cpu = cpus()[0]?.model ?? 'unknown cpu'
console.log(
  `\n${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
)
console.log(
  `autocannon: ${connections} connections, pipelining ${pipelining}, ${duration} s x ${rounds} rounds (median), ` +
    `server ${pin ? 'pinned to core 1, load to core 0' : 'not pinned'}\n`,
)
console.log('| case | req/s | vs raw node:http |')
console.log('|---|---:|---:|')
for (const name of names) {
  const rps = median(results.get(name) ?? [])
  const ratio = raw ? (rps / raw).toFixed(2) : 'n/a'
  console.log(`| ${labels[name] ?? name} | ${Math.round(rps)} | ${ratio}× |`)
}
