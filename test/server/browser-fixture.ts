/**
 * Real headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core.
 * Without the binary the tests skip with a printed reason, or fail when
 * TSGI_REQUIRE_INTEGRATION=1.
 */
import type { Browser } from 'playwright-core'
import { findBinary, present, skipWithout } from './tls-fixture.js'

const chromiumPath = findBinary('chromium')

/** Why the Chromium tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = chromiumPath
  ? undefined
  : 'chromium not found (Debian package chromium)'

/** True when the tests named `what` should skip (and says why, once). */
export function skipChromium(what: string): boolean {
  return skipWithout(what, chromiumMissing)
}

/** Launches headless Chromium, with `args` beside the flags that keep it quiet and offline. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({
    executablePath: present(chromiumPath, 'chromium not found'),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  })
}
