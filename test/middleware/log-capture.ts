/** Test helper: a logger option that collects lines and lets a test wait for the next one. */
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
