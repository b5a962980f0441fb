/**
 * A real `redis-server` for tests: on a free loopback port, in a temp dir, with persistence
 * off. `available` says whether the binary is here; with TSGI_REQUIRE_INTEGRATION=1 its
 * absence is a failure rather than a skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

function findBinary(): string | undefined {
  for (const candidate of ['/usr/bin/redis-server', 'redis-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return undefined
}

/** The redis-server binary, or undefined. */
export const redisBinary = findBinary()

/** True when Redis tests must run (and so fail without the binary). */
export const integrationRequired = process.env.TSGI_REQUIRE_INTEGRATION === '1'

if (!redisBinary) {
  const message = 'redis-server not found: the Redis session tests are skipped'
  if (integrationRequired) throw new Error(`${message}, but TSGI_REQUIRE_INTEGRATION=1 requires them`)
  process.stderr.write(`${message}\n`)
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A running redis-server that can be killed and started again on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined
  private readonly dir = mkdtempSync(join(tmpdir(), 'tsgi-redis-'))
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts the server (again) and resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (!redisBinary) throw new Error('redis-server is not installed')
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    const child = spawn(redisBinary, [...args, '--dir', this.dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! })
      lines.on('line', (line) => {
        if (line.includes('Ready to accept connections')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)))
    })
    child.stdout?.resume()
  }

  /** SIGKILLs the server and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
