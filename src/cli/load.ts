/**
 * Finds and imports the app: the app file (`.ts` files through tsx's register API), the
 * `-M` modules before it, or the `-e` code instead of it. The default export must be an app
 * or a promise of one. Every failure is a {@link CliError} carrying the user's own message.
 */
import { statSync } from 'node:fs'
import { register as nodeRegister } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../types.js'
import { CliError, messageLine } from './errors.js'

/** The app file to serve: the one given, else app.ts or app.js in `cwd`. */
export function locateAppFile(given: string | undefined, cwd: string): string {
  if (given !== undefined) {
    const file = resolve(cwd, given)
    const kind = statKind(file)
    if (kind === 'file') return file
    throw new CliError(
      kind === 'dir' ? `${given} is a directory, not an app file` : `app file not found: ${given}`,
    )
  }
  for (const name of ['app.ts', 'app.js']) {
    const file = resolve(cwd, name)
    if (statKind(file) === 'file') return file
  }
  throw new CliError(`no app file given, and no app.ts or app.js in ${cwd}`)
}

function statKind(path: string): 'file' | 'dir' | undefined {
  const stat = statSync(path, { throwIfNoEntry: false })
  return stat === undefined ? undefined : stat.isDirectory() ? 'dir' : 'file'
}

let typescript: Promise<void> | undefined

/** Lets `import()` load TypeScript (ESM and CommonJS), once per process. */
function registerTypeScript(): Promise<void> {
  typescript ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register()
    cjs.register()
  })
  return typescript
}

const resolvers = new Set<string>()

/**
 * Makes imports from `data:` modules resolve as if from a file in `cwd`, so `-M name` and
 * `-e` code find the project's own files and packages.
 */
function resolveDataImportsFrom(cwd: string): void {
  const parent = pathToFileURL(resolve(cwd, 'tsgiup-inline.js')).href
  if (resolvers.has(parent)) return
  resolvers.add(parent)
  const hooks = `export async function resolve(specifier, context, next) {
  const from = context.parentURL
  if (from !== undefined && from.startsWith('data:') && !/^(node|data):/.test(specifier)) {
    return next(specifier, { ...context, parentURL: ${JSON.stringify(parent)} })
  }
  return next(specifier, context)
}`
  nodeRegister(`data:text/javascript,${encodeURIComponent(hooks)}`)
}

function dataModule(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`
}

/** Imports `url`, turning whatever it throws into a CliError that shows its own message. */
async function importOrFail(url: string, label: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (err) {
    throw loadFailure(label, err)
  }
}

/** A load failure showing the error's own message, on one line. */
function loadFailure(label: string, err: unknown): CliError {
  return new CliError(`${label} failed to load: ${messageLine(err)}`)
}

/** What to load: an app file, or `-e` code; `-M` modules go first. */
export interface AppSource {
  readonly file: string | undefined
  readonly evalCode: string | undefined
  readonly modules: readonly string[]
  readonly cwd: string
}

/** Imports the `-M` modules, then the app, and returns the app. */
export async function loadApp(source: AppSource): Promise<App> {
  await registerTypeScript()
  if (source.modules.length > 0 || source.evalCode !== undefined) resolveDataImportsFrom(source.cwd)
  for (const name of source.modules) {
    await importOrFail(dataModule(`import ${JSON.stringify(name)}`), `module ${name}`)
  }
  if (source.evalCode !== undefined) {
    const code = source.evalCode
    const module = /(^|[\s;}])export\s/.test(code) ? code : `export default (\n${code}\n)`
    return defaultApp(await importOrFail(dataModule(module), '-e code'), '-e code')
  }
  const file = source.file
  if (file === undefined) throw new CliError('no app file to load')
  const label = displayPath(file, source.cwd)
  return defaultApp(await importOrFail(pathToFileURL(file).href, label), label)
}

/** `file` relative to `cwd` when it lies inside it. */
export function displayPath(file: string, cwd: string): string {
  const prefix = cwd.endsWith('/') ? cwd : `${cwd}/`
  return file.startsWith(prefix) ? file.slice(prefix.length) : file
}

async function defaultApp(ns: Record<string, unknown>, label: string): Promise<App> {
  let value = ns.default
  // A TypeScript file compiled as CommonJS: its `export default` is `module.exports.default`.
  if (isObject(value) && value.__esModule === true && 'default' in value) value = value.default
  if (isObject(value) && typeof value.then === 'function') {
    try {
      value = await value
    } catch (err) {
      throw loadFailure(label, err)
    }
  }
  if (typeof value === 'function') return value as App
  const named = typeof ns.app === 'function' ? `; it exports 'app': add 'export default app'` : ''
  if (value === undefined) throw new CliError(`${label} has no default export (an app)${named}`)
  throw new CliError(
    `the default export of ${label} is not an app (a function): it is ${describe(value)}${named}`,
  )
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value} (${String(value).slice(0, 40)})`
}
