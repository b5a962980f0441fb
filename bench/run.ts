/**
 * The core benchmark: raw node:http against the same hello world through tsgi's server, in one
 * run. The servers load the built package (`dist/`), as users run it; see bench/load.ts for
 * the method (pinned cores, interleaved rounds, median).
 *
 * Usage: npm run bench [-- --duration 10 --rounds 3 --connections 50 --cases raw,array --engine wrk]
 */
import { parseArgs } from 'node:util'
import {
  type Case,
  describeRun,
  type Engine,
  pinLoadGenerator,
  runRounds,
  startServer,
  table,
} from './load.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    pipelining: { type: 'string', default: '1' },
    cases: { type: 'string', default: 'raw,array,iterable,middleware3' },
    engine: { type: 'string', default: 'autocannon' },
  },
})
const opts = {
  engine: values.engine as Engine,
  duration: Number(values.duration),
  rounds: Number(values.rounds),
  connections: Number(values.connections),
  pipelining: Number(values.pipelining),
}

pinLoadGenerator()

const labels: Record<string, string> = {
  raw: 'raw node:http',
  array: 'serve(), array body',
  iterable: 'serve(), async-iterable body',
  middleware3: 'serve(), 3 pass-through middleware (builder)',
}
const cases: Case[] = values.cases.split(',').map((name) => ({
  name,
  label: labels[name] ?? name,
  start: () => startServer('bench/servers.ts', [name]),
}))

const results = await runRounds(cases, opts)
console.log(`\n${describeRun(opts)}\n`)
console.log(table(cases, results, 'raw', 'raw node:http'))
