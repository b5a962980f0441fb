/**
 * What every benchmark shares: pinning the load generator and the servers to different cores
 * (taskset, where present), starting a server in its own process, checking once that it
 * answers what it should, loading it with wrk, autocannon or (HTTP/2) h2load, interleaved
 * rounds with the median kept, the tables of ratios, and the line that says what machine ran it.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:http2'
import { cpus, tmpdir, totalmem } from 'node:os'
import { basename, join, resolve } from 'node:path'
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

/** A copy of the built package and the bench scripts that a run's servers load. */
export interface BuildSnapshot {
  /** The copy's root: its `bench/` holds the server scripts, which import `tsgi` from its `dist/`. */
  readonly dir: string
  remove(): Promise<void>
}

/**
 * Copies package.json, the built `dist/` and `bench/` into a temporary directory whose
 * node_modules links to this checkout's, so every server of a run loads the one build that was
 * there when the run began, even if `dist/` is rebuilt (or removed) meanwhile.
 */
export async function snapshotBuild(): Promise<BuildSnapshot> {
  const root = resolve(import.meta.dirname, '..')
  const dir = await mkdtemp(join(tmpdir(), 'tsgi-bench-build-'))
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    await cp(join(root, 'package.json'), join(dir, 'package.json'))
    await cp(join(root, 'dist'), join(dir, 'dist'), { recursive: true })
    await cp(join(root, 'bench'), join(dir, 'bench'), {
      recursive: true,
      filter: (src) => !/\/results$/.test(src),
    })
    await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
  } catch (err) {
    await remove()
    throw new Error(`bench: cannot copy the build (is it built? npm run build): ${(err as Error).message}`)
  }
  return { dir, remove }
}

/** A server process that printed its port. */
export interface Running {
  readonly child: ChildProcess
  readonly port: number
}

/**
 * Starts `node --import tsx <script> ...args` (pinned to core 1) and waits for the port it
 * prints as its first line of output. Its stderr is passed through; when it exits before
 * listening, the error carries the last error message it printed.
 */
export async function startServer(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Running> {
  const node = [process.execPath, '--import', 'tsx', script, ...args]
  const [cmd, ...rest] = pinned ? ['taskset', '-c', '1', ...node] : node
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  // What to say if it dies: the last error it printed (`…Error…: …`), else its last line.
  let lastLine = ''
  let lastError = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk)
    for (const line of chunk.toString().split('\n')) {
      const text = line.trim()
      if (text) lastLine = text
      if (/Error\b.*: /.test(text)) lastError = text
    }
  })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => {
      rl.close()
      resolve(l)
    })
    // 'close' rather than 'exit': by then its stderr has been read to the end
    child.once('close', (code) =>
      reject(
        new Error(
          `${basename(script)} ${args.join(' ')} exited with ${code} before listening${lastLine ? `: ${lastError || lastLine}` : ''}`,
        ),
      ),
    )
  })
  return { child, port: Number(line) }
}

/** Stops a server and waits for its process to be gone (SIGKILL after 3 s), so the next one has the core. */
export async function stopServer({ child }: Running): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill()
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

/**
 * Which load generator speaks HTTP/1.1: wrk (Debian's, in C; one thread on its own core keeps
 * up with every server here, so the server is the limit) or autocannon (npm, in JavaScript: on
 * one core it tops out near what node:http serves, which hides server costs). HTTP/2 cases are
 * always loaded with h2load (Debian's nghttp2-client).
 */
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

/** The protocol a case speaks: HTTP/1.1, or HTTP/2 in cleartext with prior knowledge (h2c). */
export type Protocol = 'http/1.1' | 'h2c'

/** Load settings. */
export interface LoadOptions {
  readonly engine?: Engine
  readonly connections: number
  readonly pipelining: number
  readonly duration: number
  /** Concurrent streams per connection on HTTP/2 (h2load `-m`). @default 10 */
  readonly streams?: number
  readonly path?: string
  readonly headers?: Record<string, string>
}

/** Loads a server for `duration` seconds; throws on any error or non-2xx answer. */
export async function measure(
  port: number,
  opts: LoadOptions,
  protocol: Protocol = 'http/1.1',
): Promise<{ rps: number; p99: number }> {
  if (protocol === 'h2c') return measureH2load(port, opts)
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

function headerArgs(headers: Record<string, string> | undefined): string[] {
  return Object.entries(headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
}

/** The same with wrk: one thread (one core), `connections` connections. */
function measureWrk(port: number, opts: LoadOptions): Promise<{ rps: number; p99: number }> {
  const args = [
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.duration}s`,
    '--latency',
    ...headerArgs(opts.headers),
  ]
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

/**
 * HTTP/2 with h2load: one thread (one core), `connections` clients with `streams` concurrent
 * streams each, h2c with prior knowledge (h2load's default for http:// URLs). h2load reports
 * no percentiles, so p99 is NaN.
 */
function measureH2load(port: number, opts: LoadOptions): Promise<{ rps: number; p99: number }> {
  const args = ['-t1', `-c${opts.connections}`, `-m${opts.streams ?? 10}`, `-D${opts.duration}`]
  args.push(...headerArgs(opts.headers), `http://127.0.0.1:${port}${opts.path ?? '/'}`)
  return new Promise((resolve, reject) => {
    execFile('h2load', args, (err, stdout) => {
      if (err) return reject(err)
      const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)?.[1])
      const counts = /(\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout)
      const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout)
      const failed = Number(counts?.[1] ?? 0) + Number(counts?.[2] ?? 0) + Number(counts?.[3] ?? 0)
      const non2xx = Number(codes?.[2] ?? 0) + Number(codes?.[3] ?? 0) + Number(codes?.[4] ?? 0)
      if (!counts || !codes || !Number.isFinite(rps)) return reject(new Error(`h2load said: ${stdout}`))
      if (failed > 0 || non2xx > 0)
        return reject(new Error(`port ${port}: h2load saw ${failed} failed requests, ${non2xx} non-2xx`))
      resolve({ rps, p99: Number.NaN })
    })
  })
}

/** One answer, read whole. */
export interface Answer {
  readonly status: number
  /** Header names in lower case; repeated ones (Set-Cookie) joined by ', '. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** One GET of `path`, over HTTP/1.1 (a fresh connection) or h2c (a fresh session). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  protocol: Protocol = 'http/1.1',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const flat = (h: Record<string, string | string[] | number | undefined>) =>
      Object.fromEntries(
        Object.entries(h).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]),
      )
    if (protocol === 'h2c') {
      const session = connect(`http://127.0.0.1:${port}`)
      session.on('error', reject)
      const stream = session.request({ ':path': path, ...headers })
      stream.on('response', (h) => {
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          session.close()
          resolve({ status: Number(h[':status']), headers: flat(h), body: Buffer.concat(chunks) })
        })
      })
      stream.on('error', reject)
      stream.end()
      return
    }
    request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: flat(res.headers), body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

/** What a case's server must answer; checked once, before it is loaded, so a misconfigured server cannot win. */
export interface Expectation {
  readonly status: number
  readonly body: string | Uint8Array
  /** Headers it must send: the exact value, or `true` for any value. */
  readonly headers?: Readonly<Record<string, string | true>>
}

/** Throws, saying what differs, unless the server answers `c.path` as `c.expect` says. */
export async function verify(c: Case, port: number, headers: Record<string, string>): Promise<void> {
  const want = c.expect
  if (!want) return
  const got = await get(port, c.path ?? '/', headers, c.protocol)
  if (got.status !== want.status) throw new Error(`answered ${got.status}, expected ${want.status}`)
  const body = Buffer.from(want.body)
  if (!got.body.equals(body)) {
    const shown = got.body.length > 60 ? `${got.body.length} bytes` : JSON.stringify(got.body.toString())
    throw new Error(
      `answered the body ${shown}, expected ${body.length > 60 ? `${body.length} bytes` : JSON.stringify(want.body)}`,
    )
  }
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const actual = got.headers[name.toLowerCase()]
    if (actual === undefined) throw new Error(`sent no ${name} header`)
    if (value !== true && actual !== value) throw new Error(`sent ${name}: ${actual}, expected ${value}`)
  }
}

/** The median of a list (0 when empty). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** One benchmark case: how to start its server, what to request, and what it must answer. */
export interface Case {
  readonly name: string
  readonly label: string
  start(): Promise<Running>
  readonly path?: string
  readonly headers?: Record<string, string>
  /** @default 'http/1.1' */
  readonly protocol?: Protocol
  readonly expect?: Expectation
  /** Request headers taken from the started server before it is checked and loaded (a session cookie). */
  prepare?(port: number): Promise<Record<string, string>>
}

/** Settings of {@link runRounds}. */
export interface RoundOptions extends Omit<LoadOptions, 'path' | 'headers'> {
  readonly rounds: number
  /** Seconds of load before each measurement. @default 2 */
  readonly warmup?: number
}

/** Median req/s of each case measured, and why each failed case failed. */
export interface Results {
  readonly rps: Map<string, number>
  readonly failed: Map<string, string>
}

/**
 * Runs every case once per round (rounds interleaved, so drift hits all alike): starts its
 * server, checks its answer (first round), warms it up, loads it, stops it. A case that fails
 * is reported and left out of the later rounds; the others go on.
 */
export async function runRounds(cases: readonly Case[], opts: RoundOptions): Promise<Results> {
  const all = new Map<string, number[]>()
  const failed = new Map<string, string>()
  const warmup = opts.warmup ?? 2
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of cases) {
      if (failed.has(c.name)) continue
      const tag = `round ${round + 1}/${opts.rounds} ${c.name}`
      try {
        const server = await c.start()
        try {
          const headers = { ...c.headers, ...(await c.prepare?.(server.port)) }
          if (round === 0) await verify(c, server.port, headers)
          const load = { ...opts, path: c.path ?? '/', headers }
          if (warmup > 0) await measure(server.port, { ...load, duration: warmup }, c.protocol)
          const r = await measure(server.port, load, c.protocol)
          all.set(c.name, [...(all.get(c.name) ?? []), r.rps])
          process.stderr.write(`${tag}: ${Math.round(r.rps)} req/s\n`)
        } finally {
          await stopServer(server)
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        failed.set(c.name, message)
        process.stderr.write(`${tag}: FAILED: ${message}\n`)
      }
    }
  }
  const rps = new Map([...all].filter(([name]) => !failed.has(name)).map(([name, xs]) => [name, median(xs)]))
  return { rps, failed }
}

/** The machine and method, as the first lines of a report. */
export function describeRun(opts: RoundOptions): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu'
  const h2 =
    opts.streams === undefined
      ? ''
      : `; HTTP/2: h2load, ${opts.connections} clients x ${opts.streams} streams`
  return (
    `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n` +
    `${opts.engine ?? 'autocannon'}: ${opts.connections} connections, pipelining ${opts.pipelining}${h2}; ` +
    `${opts.duration} s x ${opts.rounds} rounds (median) after ${opts.warmup ?? 2} s warm-up; ` +
    `server ${pinned ? 'pinned to core 1, load to core 0' : 'not pinned'}`
  )
}

/** What a ratio is taken against: one case, or the fastest of several. */
export interface Reference {
  readonly label: string
  readonly names: readonly string[]
}

/** A reference's req/s (its fastest measured case; 0 when none was) and which case that was. */
export function referenceRps(results: Results, ref: Reference): { rps: number; name: string | undefined } {
  let best: { rps: number; name: string | undefined } = { rps: 0, name: undefined }
  for (const name of ref.names) {
    const rps = results.rps.get(name) ?? 0
    if (rps > best.rps) best = { rps, name }
  }
  return best
}

/** `a / b` as `0.97×`, or 'n/a' when either is missing. */
export function ratio(a: number, b: number): string {
  return a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a'
}

/** A Markdown table of req/s and the ratio of each case to each reference; failures noted below it. */
export function table(cases: readonly Case[], results: Results, refs: readonly Reference[]): string {
  const refRps = refs.map((ref) => referenceRps(results, ref))
  const heads = refs.map((ref, i) => {
    const fastest = ref.names.length > 1 ? cases.find((c) => c.name === refRps[i]?.name)?.label : undefined
    return `vs ${ref.label}${fastest ? ` (${fastest})` : ''}`
  })
  const rows = cases.map((c) => {
    const rps = results.rps.get(c.name) ?? 0
    const shown = results.failed.has(c.name) ? 'failed' : String(Math.round(rps))
    return `| ${c.label} | ${shown} | ${refRps.map((r) => ratio(rps, r.rps)).join(' | ')} |`
  })
  const notes = cases
    .filter((c) => results.failed.has(c.name))
    .map((c) => `\n${c.label} failed: ${results.failed.get(c.name)}`)
  return [
    `| case | req/s | ${heads.join(' | ')} |`,
    `|---|---:|${heads.map(() => '---:').join('|')}|`,
    ...rows,
  ]
    .join('\n')
    .concat(notes.join(''))
}
