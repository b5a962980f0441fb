/** Test helper: one response in the three forms every response-touching middleware is tested with. */
import type { App, Chunk, HeaderList } from '../../src/types.js'

async function* chunks(parts: readonly Chunk[]): AsyncGenerator<Chunk> {
  for (const part of parts) yield part
}

/** `[name, app]` pairs answering `status`, `headers` (a fresh copy each time) and `parts` as an array body, an async-iterable body and a writer. */
export function responseForms(status: number, headers: HeaderList, parts: readonly Chunk[]): [string, App][] {
  return [
    ['array body', () => [status, [...headers], [...parts]]],
    ['async-iterable body', () => [status, [...headers], chunks(parts)]],
    [
      'writer',
      () => async (respond) => {
        const writer = respond([status, [...headers]])
        for (const part of parts) await writer.write(part)
        await writer.close()
      },
    ],
  ]
}
