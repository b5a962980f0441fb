/** The tail of every bench server script: start the case named on the command line, print its port. */
export async function startNamedCase(cases: Record<string, () => Promise<number>>): Promise<void> {
  const name = process.argv[2] ?? ''
  const start = cases[name]
  if (!start) {
    process.stderr.write(`unknown case ${JSON.stringify(name)}; known: ${Object.keys(cases).join(', ')}\n`)
    process.exit(2)
  }
  process.stdout.write(`${await start()}\n`)
}
