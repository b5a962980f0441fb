/**
 * Test helpers for the logging middleware: a logger option that collects lines and lets a test
 * wait for the next one, and a time zone pinned for a test file (log times are local).
 */
import { afterAll, beforeAll } from 'vitest'

export interface LogCapture {
  readonly logger: (line: string) => void
  readonly lines: string[]
  /** Resolves with line number `index` (0-based) once it was written. */
  line(index?: number): Promise<string>
}

export function logCapture(): LogCapture {
  const lines: string[] = []
  const waiting = new Map<number, (line: string) => void>()
  return {
    lines,
    logger(line) {
      lines.push(line)
      waiting.get(lines.length - 1)?.(line)
    },
    line(index = 0) {
      const have = lines[index]
      if (have !== undefined) return Promise.resolve(have)
      return new Promise((resolve) => waiting.set(index, resolve))
    },
  }
}

/** Sets `TZ` to `zone` before the file's tests and restores it after. */
export function pinTimeZone(zone: string): void {
  let saved: string | undefined
  beforeAll(() => {
    saved = process.env.TZ
    process.env.TZ = zone
  })
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  })
}
