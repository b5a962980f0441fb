/**
 * Static files: the examples folder itself, served with Static (files) and the Directory app
 * (listings), behind ConditionalGET and ETag so that browsers revalidate with `If-None-Match`
 * and get `304 Not Modified` while a file is unchanged.
 *
 * Run it: `tsgiup examples/static.ts` (from a clone of this repository:
 * `node --conditions=tsgi-source --import tsx src/cli/bin.ts examples/static.ts`).
 * Open http://localhost:5000/.
 *
 * Static answers paths that look like files (they have an extension); what it does not find
 * (`passThrough`) and every directory go on to Directory, which lists directories and redirects
 * `/dir` to `/dir/`. `.ts` files are shown as text (mime-types would say `video/mp2t`).
 */
import { lookup } from 'mime-types'
import { directory } from 'tsgi'
import { builder, enable } from 'tsgi/builder'

const root = import.meta.dirname

const contentType = (path: string): string =>
  /\.m?ts$/.test(path) ? 'text/plain' : lookup(path) || 'application/octet-stream'

export const app = builder(
  enable('ConditionalGET'),
  enable('ETag'),
  enable('Static', { path: /\.[^/]+$/, root, contentType, passThrough: true }),
  directory({ root, contentType }),
)

export default app
