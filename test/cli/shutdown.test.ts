/**
 * Graceful shutdown on SIGTERM and SIGINT: in-flight requests finish, the process exits 0;
 * a request still running when the shutdown timeout ends is aborted with 'server-shutdown'.
 */
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { killAll, tempApp, tsgiup } from './spawn.js'

afterEach(killAll)

/** The app: /slow writes a first line, then the last one once the process got SIGTERM or SIGINT. */
const SLOW_APP = `
let release = () => {}
const stopped = new Promise<void>((resolve) => { release = resolve })
process.once('SIGTERM', () => release())
process.once('SIGINT', () => release())

interface Env { PATH_INFO: string; 'tsgi.errors': { write(s: string): void }; 'tsgix.signal'?: AbortSignal }
type Writer = { write(c: string): Promise<void>; close(): Promise<void> }

export default (env: Env) => async (respond: (head: [number, string[]]) => Writer) => {
  const writer = respond([200, ['Content-Type', 'text/plain']])
  await writer.write('started\\n')
  if (env.PATH_INFO === '/stuck') {
    const signal = env['tsgix.signal']
    signal?.addEventListener('abort', () => env['tsgi.errors'].write(\`aborted: \${signal.reason}\\n\`))
    return
  }
  await stopped
  await writer.write('finished\\n')
  await writer.close()
}
`

interface Streamed {
  /** Resolves when the first chunk arrived. */
  readonly started: Promise<void>
  /** Resolves with the whole body and whether the response completed. */
  readonly done: Promise<{ body: string; complete: boolean }>
}

function stream(url: string, path: string): Streamed {
  const target = new URL(url)
  let onStart: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    onStart = resolve
  })
  const done = new Promise<{ body: string; complete: boolean }>((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        onStart()
      })
      res.on('end', () => resolve({ body, complete: res.complete }))
      res.on('error', () => resolve({ body, complete: false }))
      res.on('aborted', () => resolve({ body, complete: false }))
    })
    req.on('error', reject)
    req.end()
  })
  return { started, done }
}

describe('tsgiup shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s lets a slow request finish, then exits 0', async (signal) => {
    const cwd = await tempApp({ 'app.ts': SLOW_APP })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production'], { cwd })
    const slow = stream(await t.url(), '/slow')
    await slow.started
    t.child.kill(signal)
    expect(await slow.done).toEqual({ body: 'started\nfinished\n', complete: true })
    expect(await t.exited).toBe(0)
    expect(t.lines).toContain(`tsgiup: ${signal}: shutting down (in-flight requests have 10s)`)
  })

  it('aborts a request still running after --shutdown-timeout with server-shutdown, and exits 0', async () => {
    const cwd = await tempApp({ 'app.ts': SLOW_APP })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production', '--shutdown-timeout', '100ms'], {
      cwd,
    })
    const stuck = stream(await t.url(), '/stuck')
    await stuck.started
    t.child.kill('SIGTERM')
    expect(await stuck.done).toEqual({ body: 'started\n', complete: false })
    expect(await t.exited).toBe(0)
    expect(t.lines).toContain('aborted: server-shutdown')
  })

  it('with --workers, SIGTERM lets a slow request finish in its worker, then exits 0', async () => {
    const cwd = await tempApp({ 'app.ts': SLOW_APP })
    const t = tsgiup(['-o', '127.0.0.1', '-p', '0', '-E', 'production', '--workers', '2'], { cwd })
    const slow = stream(await t.url(), '/slow')
    await slow.started
    t.child.kill('SIGTERM')
    expect(await slow.done).toEqual({ body: 'started\nfinished\n', complete: true })
    expect(await t.exited).toBe(0)
  })
})
