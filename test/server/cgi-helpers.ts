/**
 * What the CGI tests share: the package built for the CGI scripts, and a rendezvous server on
 * loopback through which a test and a CGI process it does not share memory with talk: gates the
 * script waits on, and reports it posts after its response.
 *
 * The scripts (test/fixtures/cgi/*.mjs) are real `#!/usr/bin/env node` CGI scripts that import
 * the built package by its own name (`tsgi/server/cgi`), as an installed one would be. They do
 * not run on the repository's dist/: the package test's `npm pack` rebuilds it (`rm -rf dist`)
 * while other test files run. {@link builtPackage} compiles the sources with the package's own
 * `tsconfig.build.json` into a private copy of the package (package.json, dist/, the scripts,
 * node_modules linked), once per state of the sources; test files that ask at once each build
 * and the first to finish is used.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root. */
export const root = fileURLToPath(new URL('../..', import.meta.url))

/** Paths inside a built package. */
export interface BuiltPackage {
  readonly root: string
  /** The CGI script of the front-end tests. */
  readonly appScript: string
  /** The CGI script that serves one conformance case. */
  readonly suiteScript: string
  /** The compiled tsgiup. */
  readonly bin: string
}

const SOURCES = ['src', 'builder', 'middleware']
const SCRIPTS = join(root, 'test/fixtures/cgi')

/** The newest modification time and the number of files under `dir`, folded into `acc`. */
function fingerprint(dir: string, acc: { newest: number; count: number }): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) fingerprint(path, acc)
    else {
      acc.newest = Math.max(acc.newest, statSync(path).mtimeMs)
      acc.count++
    }
  }
}

function packagePaths(dir: string): BuiltPackage {
  return {
    root: dir,
    appScript: join(dir, 'test/fixtures/cgi/app.mjs'),
    suiteScript: join(dir, 'test/fixtures/cgi/suite.mjs'),
    bin: join(dir, 'dist/src/cli/bin.js'),
  }
}

let building: Promise<BuiltPackage> | undefined

/** The package built from the current sources (made on first use; see the file's comment). */
export function builtPackage(): Promise<BuiltPackage> {
  building ??= build()
  return building
}

async function build(): Promise<BuiltPackage> {
  const acc = { newest: 0, count: 0 }
  for (const dir of [...SOURCES, 'test/fixtures/cgi']) fingerprint(join(root, dir), acc)
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    acc.newest = Math.max(acc.newest, statSync(join(root, file)).mtimeMs)
  }
  const final = join(tmpdir(), `tsgi-cgi-package-${Math.floor(acc.newest)}-${acc.count}`)
  if (existsSync(join(final, 'built'))) return packagePaths(final)
  const work = mkdtempSync(join(tmpdir(), 'tsgi-cgi-building-'))
  // Apache runs CGI scripts as nobody when started as root
  chmodSync(work, 0o755)
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const args = [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(work, 'dist')]
  // a type error elsewhere in the tree (work under way) still emits: the files are checked below
  const failure = await new Promise<string>((resolve) =>
    execFile(process.execPath, args, { cwd: root, maxBuffer: 16 * 2 ** 20 }, (_err, stdout) =>
      resolve(stdout),
    ),
  )
  const paths = packagePaths(work)
  if (!existsSync(join(work, 'dist/src/server/cgi.js')) || !existsSync(paths.bin)) {
    throw new Error(`building the package for the CGI scripts failed: ${failure}`)
  }
  copyFileSync(join(root, 'package.json'), join(work, 'package.json'))
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'))
  mkdirSync(join(work, 'test/fixtures/cgi'), { recursive: true })
  for (const name of readdirSync(SCRIPTS)) {
    copyFileSync(join(SCRIPTS, name), join(work, 'test/fixtures/cgi', name))
    chmodSync(join(work, 'test/fixtures/cgi', name), 0o755)
  }
  writeFileSync(join(work, 'built'), '')
  try {
    renameSync(work, final)
  } catch {
    // another test file's build got there first: use that one
    rmSync(work, { recursive: true, force: true })
  }
  removeOldBuilds(final)
  return packagePaths(final)
}

/** Removes the packages built for older sources, once they are an hour old. */
function removeOldBuilds(keep: string): void {
  const dir = tmpdir()
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (path === keep || !/^tsgi-cgi-(package|building)-/.test(name)) continue
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat !== undefined && Date.now() - stat.mtimeMs > 3_600_000)
      rmSync(path, { recursive: true, force: true })
  }
}

/** A place in the rendezvous a CGI script reaches by URL. */
export interface Gate {
  /** GET it: the response comes once {@link Gate.open} is called. */
  readonly url: string
  open(): void
}

/** Where a CGI script POSTs `{ value }`; `value` settles with what it posted. */
export interface Report {
  readonly url: string
  readonly value: Promise<unknown>
}

/** A loopback HTTP server of gates and reports. */
export interface Rendezvous {
  gate(): Gate
  report(): Report
  close(): Promise<void>
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = []
  for await (const chunk of req) parts.push(chunk as Buffer)
  return (JSON.parse(Buffer.concat(parts).toString() || '{}') as { value?: unknown }).value
}

/** Starts a rendezvous server. */
export async function startRendezvous(): Promise<Rendezvous> {
  const waiting = new Map<string, (value: unknown) => void>()
  const gates = new Map<string, Promise<void>>()
  let next = 0
  const server: Server = createServer((req, res) => {
    // no keep-alive: an idle connection would keep the CGI process (and its response) alive
    res.setHeader('Connection', 'close')
    const [, kind, id = ''] = (req.url ?? '').split('/')
    if (kind === 'gate' && gates.has(id)) {
      void gates.get(id)!.then(() => res.end('open'))
    } else if (kind === 'report' && waiting.has(id)) {
      void readJson(req).then((value) => {
        waiting.get(id)?.(value)
        res.end('ok')
      })
    } else {
      res.statusCode = 404
      res.end()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    gate() {
      const id = String(next++)
      let open = () => {}
      gates.set(
        id,
        new Promise<void>((resolve) => {
          open = resolve
        }),
      )
      return { url: `${base}/gate/${id}`, open }
    },
    report() {
      const id = String(next++)
      const value = new Promise<unknown>((resolve) => waiting.set(id, resolve))
      return { url: `${base}/report/${id}`, value }
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
