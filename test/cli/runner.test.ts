/** The runner in process: `run(argv, io)` for answers that need no server. */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/runner.js'

function io(env: Record<string, string | undefined> = {}) {
  let stdout = ''
  let stderr = ''
  return {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    out: () => stdout,
    err: () => stderr,
  }
}

describe('run', () => {
  it('prints the help to stdout and returns 0', async () => {
    const o = io()
    expect(await run(['--help'], o)).toBe(0)
    expect(o.out()).toMatch(/^Usage: tsgiup \[options\] \[app-file\]/)
    expect(o.err()).toBe('')
  })

  it('prints the version of the package', async () => {
    const o = io()
    expect(await run(['--version'], o)).toBe(0)
    expect(o.out()).toMatch(/^tsgiup 0\.\d+\.\d+ \(node v20|^tsgiup \d+\.\d+\.\d+ \(node v/)
  })

  it('reports a usage error as one line with exit code 2, touching no environment variable', async () => {
    const o = io()
    expect(await run(['--frobnicate'], o)).toBe(2)
    expect(o.err()).toBe('tsgiup: unknown option --frobnicate (see tsgiup --help)\n')
    expect(o.env).toEqual({})
  })

  it('publishes the environment (TSGI_ENV, NODE_ENV when unset) before it looks for the app', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tsgiup-run-'))
    const o = io({ NODE_ENV: 'production' })
    expect(await run(['-E', 'staging'], { ...o, cwd })).toBe(1)
    expect(o.env).toEqual({ NODE_ENV: 'production', TSGI_ENV: 'staging' })
    expect(o.err()).toBe(`tsgiup: no app file given, and no app.ts or app.js in ${cwd}\n`)
  })
})
