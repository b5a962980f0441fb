/**
 * The two renderings of StackTrace's 500 page: plain text and an HTML page (every piece of
 * the error escaped). Both show the error's own `stack` as Node made it (source-mapped when
 * source maps are on), then each `cause` in turn, then the errors of an `AggregateError`.
 */
import { inspect } from 'node:util'
import { escapeHtml } from '../../src/html.js'
import type { Env } from '../../src/types.js'

const MAX_CAUSES = 16

interface Section {
  readonly label: string
  readonly title: string
  readonly trace: string
}

/** The error, its causes and aggregated errors as labelled sections. */
function sections(err: unknown): Section[] {
  const out: Section[] = []
  const seen = new Set<unknown>()
  let current: unknown = err
  let label = 'Error'
  while (out.length < MAX_CAUSES && !seen.has(current)) {
    seen.add(current)
    out.push({ label, title: titleOf(current), trace: traceOf(current) })
    if (current instanceof AggregateError) {
      const errors: unknown[] = current.errors
      errors.forEach((e, i) => {
        out.push({
          label: `Aggregated error ${i + 1} of ${errors.length}`,
          title: titleOf(e),
          trace: traceOf(e),
        })
      })
    }
    if (current === null || typeof current !== 'object' || !('cause' in current)) break
    current = (current as { cause?: unknown }).cause
    label = 'Caused by'
  }
  return out
}

function titleOf(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  if (typeof err === 'string') return err
  return inspect(err, { depth: 1, breakLength: Number.POSITIVE_INFINITY })
}

function traceOf(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`
  const stack = (err as { stack?: unknown } | null)?.stack
  if (typeof stack === 'string') return stack
  return `${titleOf(err)}\n    (a thrown ${err === null ? 'null' : typeof err}, not an Error: no stack trace)`
}

/** The plain-text trace. */
export function traceText(err: unknown): string {
  return sections(err)
    .map((s, i) => (i === 0 ? s.trace : `${s.label}: ${s.trace}`))
    .join('\n')
}

function frames(trace: string): string {
  return trace
    .split('\n')
    .map((line) => {
      const cls = !/^\s+at /.test(line) ? 'msg' : /\(node:|at node:|node_modules/.test(line) ? 'lib' : 'app'
      return `<span class="${cls}">${escapeHtml(line)}</span>`
    })
    .join('\n')
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.3em;color:#b00;word-break:break-word}h2{font-size:1.05em;margin-top:1.5em}
pre{background:#f6f6f6;padding:1em;overflow:auto}.lib{color:#888}.app{color:#000;font-weight:600}
.req{color:#555}`

/** The HTML page. */
export function traceHtml(err: unknown, env: Env): string {
  const all = sections(err)
  const first = all[0]?.title ?? 'Error'
  const title = escapeHtml(`Error: ${first.split('\n')[0] ?? ''}`)
  const request = escapeHtml(`${env.REQUEST_METHOD} ${env.REQUEST_URI}`)
  const body = all
    .map((s, i) => {
      const heading = i === 0 ? '' : `<h2>${escapeHtml(`${s.label}: ${s.title.split('\n')[0] ?? ''}`)}</h2>\n`
      return `${heading}<pre>${frames(s.trace)}</pre>`
    })
    .join('\n')
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${STYLE}</style></head>
<body><h1>${title}</h1>
<p class="req">${request}</p>
${body}
</body></html>
`
}
