/**
 * Watches files and directory trees for changes, for `--reload`. Each directory gets its own
 * non-recursive `fs.watch` (new subdirectories are picked up as they appear): node's recursive
 * mode on Linux would also walk and watch `node_modules`, which can hold tens of thousands of
 * directories. Skipped: `node_modules`, names starting with a dot, editor backups (`~`), and
 * the paths in `ignore` (an access log, a unix socket: files the server itself writes).
 */
import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/** A running watch. */
export interface Watch {
  close(): void
}

function skipped(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.') || name.endsWith('~')
}

/** Calls `onChange(path)` whenever something under `roots` changes; missing roots are skipped. */
export function watchPaths(
  roots: readonly string[],
  ignore: readonly string[],
  onChange: (path: string) => void,
): Watch {
  const watchers = new Map<string, FSWatcher>()
  const ignored = new Set(ignore.map((p) => resolve(p)))
  const files = new Map<string, Set<string>>() // directory → the single files watched in it

  const watchDir = (dir: string, only: Set<string> | undefined) => {
    if (watchers.has(dir)) return
    let watcher: FSWatcher
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => {
        if (name === null) return onChange(dir)
        const path = join(dir, name.toString())
        if (skipped(basename(path)) || ignored.has(path)) return
        if (only !== undefined && !only.has(path)) return
        if (only === undefined && statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path)
        onChange(path)
      })
    } catch {
      return // vanished or unreadable: nothing to watch
    }
    watcher.on('error', () => {
      watcher.close()
      watchers.delete(dir)
    })
    watchers.set(dir, watcher)
  }

  const walk = (dir: string) => {
    watchDir(dir, undefined)
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !skipped(entry.name)) walk(join(dir, entry.name))
    }
  }

  for (const root of roots.map((r) => resolve(r))) {
    const stat = statSync(root, { throwIfNoEntry: false })
    if (stat?.isDirectory()) walk(root)
    else if (stat) {
      // A single file: watch its directory for it, so editors that replace the file are seen.
      const dir = dirname(root)
      const set = files.get(dir) ?? new Set<string>()
      set.add(root)
      files.set(dir, set)
    }
  }
  for (const [dir, set] of files) if (!watchers.has(dir)) watchDir(dir, set)

  return {
    close() {
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
    },
  }
}
