/**
 * The files the static-file cases serve, in a fresh temporary directory: 64 KiB of random bytes
 * (the throughput case) and a sparse 1 GiB file (the slow-client memory case).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The URL path of the 64 KiB file. */
export const SMALL_FILE = '/file-64k.bin'
/** The URL path of the 1 GiB file. */
export const BIG_FILE = '/file-1g.bin'

/** Makes the directory and its two files; returns the directory and the small file's bytes. */
export async function makeStaticRoot(): Promise<{ root: string; small: Buffer }> {
  const root = await mkdtemp(join(tmpdir(), 'tsgi-bench-static-'))
  const small = randomBytes(64 * 1024)
  await writeFile(join(root, SMALL_FILE), small)
  const big = await open(join(root, BIG_FILE), 'w')
  await big.truncate(2 ** 30)
  await big.close()
  return { root, small }
}
