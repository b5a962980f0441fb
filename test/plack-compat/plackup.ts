/**
 * Runs the Perl side of the Plack compatibility test: checks that plackup and the Plack modules
 * are installed, starts `plackup` on a free 127.0.0.1 port and waits until it accepts
 * connections (polling the port against a deadline, failing early if plackup exits).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/** The Perl app, next to app.ts. */
export const PSGI_APP = fileURLToPath(new URL('./fixtures/app.psgi', import.meta.url))

/** The Perl modules the comparison needs (apt: libplack-perl, libplack-middleware-deflater-perl). */
const REQUIRED_MODULES = ['Plack', 'Plack::Middleware::Deflater']

/** Why the Perl side cannot run, or undefined when it can. */
export function plackMissing(): string | undefined {
  const plackup = spawnSync('plackup', ['--version'], { encoding: 'utf8' })
  if (plackup.error) return `plackup is not installed (${plackup.error.message}); install libplack-perl`
  for (const module of REQUIRED_MODULES) {
    const perl = spawnSync('perl', [`-M${module}`, '-e', '1'], { encoding: 'utf8' })
    if (perl.status !== 0) return `the Perl module ${module} is missing: ${perl.stderr.trim()}`
  }
  return undefined
}

/** True when Plack::Middleware::ETag (CPAN only, no Debian package) is installed. */
export function hasPlackEtag(): boolean {
  return spawnSync('perl', ['-MPlack::Middleware::ETag', '-e', '1']).status === 0
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A running plackup. */
export interface Plackup {
  readonly port: number
  readonly process: ChildProcess
  /** What plackup wrote to stderr (the app's `psgi.errors` included). */
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

/** Starts plackup with the default standalone server and waits for it to listen. */
export async function startPlackup(deadlineMs = 15_000): Promise<Plackup> {
  const port = await freePort()
  const args = [
    '-E',
    'deployment',
    '-s',
    'HTTP::Server::PSGI',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    PSGI_APP,
  ]
  const child = spawn('plackup', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + deadlineMs
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`plackup exited (${child.exitCode ?? child.signalCode}) before listening:\n${stderr}`)
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`plackup did not listen on port ${port} within ${deadlineMs} ms:\n${stderr}`)
    }
    await delay(50)
  }
  return { port, process: child, stderr: () => stderr, stop }
}
