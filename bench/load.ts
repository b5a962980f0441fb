/**
 * What every benchmark shares: pinning the load generator and the servers to different cores
 * (taskset, where present), starting a server in its own process, loading it with autocannon,
 * interleaved rounds with the median kept, and the line that says what machine ran it.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** True when servers can run on core 1 and the load on core 0. */
export const pinned = hasTaskset() && cpus().length >= 2

/** Pins this process (the load generator) to core 0, where taskset allows it. */
export function pinLoadGenerator(): void {
  if (pinned) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' })
}

/** A server process that printed its port. */
export interface Running {
  readonly child: ChildProcess
  readonly port: number
}

/**
 * Starts `node --import tsx <script> ...args` (pinned to core 1) and waits for the port it
 * prints as its first line of output.
 */
export async function startServer(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Running> {
  const node = [process.execPath, '--import', 'tsx', script, ...args]
  const [cmd, ...rest] = pinned ? ['taskset', '-c', '1', ...node] : node
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => {
      rl.close()
      resolve(l)
    })
    child.once('exit', (code) =>
      reject(new Error(`${script} ${args.join(' ')} exited with ${code} before listening`)),
    )
  })
  return { child, port: Number(line) }
}

/** Which load generator: autocannon (npm, the default) or wrk (Debian's, for large bodies). */
export type Engine = 'autocannon' | 'wrk'

/** True when `wrk` is on the PATH. */
export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return (err as { status?: number }).status === 1
  }
}

/** Load settings. */
export interface LoadOptions {
  readonly engine?: Engine
  readonly connections: number
  readonly pipelining: number
  readonly duration: number
  readonly path?: string
  readonly headers?: Record<string, string>
}

/** Loads a server for `duration` seconds; throws on any error or non-2xx answer. */
export async function measure(port: number, opts: LoadOptions): Promise<{ rps: number; p99: number }> {
  if (opts.engine === 'wrk') return measureWrk(port, opts)
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${opts.path ?? '/'}`,
    connections: opts.connections,
    pipelining: opts.pipelining,
    duration: opts.duration,
    headers: opts.headers ?? {},
  })
  const errors = result.errors + result.non2xx
  if (errors > 0) throw new Error(`port ${port}: ${errors} errors or non-2xx answers`)
  return { rps: result.requests.average, p99: result.latency.p99 }
}

/** The same with wrk: one thread (one core), `connections` connections. */
function measureWrk(port: number, opts: LoadOptions): Promise<{ rps: number; p99: number }> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.duration}s`, '--latency']
  for (const [name, value] of Object.entries(opts.headers ?? {})) args.push('-H', `${name}: ${value}`)
  args.push(`http://127.0.0.1:${port}${opts.path ?? '/'}`)
  return new Promise((resolve, reject) => {
    execFile('wrk', args, (err, stdout) => {
      if (err) return reject(err)
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
      const bad = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0)
      const socketErrors = /Socket errors: (.*)/.exec(stdout)?.[1]
      if (bad > 0 || socketErrors)
        return reject(new Error(`port ${port}: ${bad} non-2xx; socket errors: ${socketErrors}`))
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout)
      const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1
      resolve({ rps, p99: Number(p99?.[1] ?? 0) * scale })
    })
  })
}

/** The median of a list (0 when empty). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** One benchmark case: how to start its server, and what to request. */
export interface Case {
  readonly name: string
  readonly label: string
  start(): Promise<Running>
  readonly path?: string
  readonly headers?: Record<string, string>
}

/**
 * Runs every case once per round (rounds interleaved, so drift hits all alike), each with a
 * 2 s warm-up, and returns the median req/s of each.
 */
export async function runRounds(
  cases: readonly Case[],
  opts: Omit<LoadOptions, 'path' | 'headers'> & { readonly rounds: number },
): Promise<Map<string, number>> {
  const all = new Map<string, number[]>()
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of cases) {
      const { child, port } = await c.start()
      try {
        const load = {
          ...opts,
          ...(c.path ? { path: c.path } : {}),
          ...(c.headers ? { headers: c.headers } : {}),
        }
        await measure(port, { ...load, duration: 2 })
        const r = await measure(port, load)
        all.set(c.name, [...(all.get(c.name) ?? []), r.rps])
        process.stderr.write(`round ${round + 1}/${opts.rounds} ${c.name}: ${Math.round(r.rps)} req/s\n`)
      } finally {
        child.kill()
      }
    }
  }
  return new Map([...all].map(([name, xs]) => [name, median(xs)]))
}

/** The machine and method, as the first lines of a report. */
export function describeRun(
  opts: Omit<LoadOptions, 'path' | 'headers'> & { readonly rounds: number },
): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu'
  return (
    `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n` +
    `${opts.engine ?? 'autocannon'}: ${opts.connections} connections, pipelining ${opts.pipelining}, ${opts.duration} s x ` +
    `${opts.rounds} rounds (median), server ${pinned ? 'pinned to core 1, load to core 0' : 'not pinned'}`
  )
}

/** A Markdown table of req/s and the ratio of each case to `base`. */
export function table(
  cases: readonly Case[],
  results: Map<string, number>,
  base: string,
  baseLabel: string,
): string {
  const ref = results.get(base) ?? 0
  const rows = cases.map((c) => {
    const rps = results.get(c.name) ?? 0
    return `| ${c.label} | ${Math.round(rps)} | ${ref ? (rps / ref).toFixed(2) : 'n/a'}× |`
  })
  return [`| case | req/s | vs ${baseLabel} |`, '|---|---:|---:|', ...rows].join('\n')
}
