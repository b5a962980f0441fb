import { describe, expect, it } from 'vitest'
import { nullLogger } from '../../middleware/null-logger.js'
import { simpleLogger } from '../../middleware/simple-logger.js'
import { testApp } from '../../src/testing/index.js'
import type { App } from '../../src/types.js'

const logs: App = (env) => {
  const logger = env['tsgix.logger']
  logger?.({ level: 'fatal', message: 'should vanish' })
  return [200, [], [typeof logger]]
}

describe('NullLogger', () => {
  it('sets tsgix.logger to a function that writes nothing', async () => {
    await testApp(nullLogger()(logs), async (fetch, ctx) => {
      expect(await (await fetch('/')).text()).toBe('function')
      expect(ctx.errors()).toBe('')
    })
  })

  it('replaces a logger set by an outer layer', async () => {
    await testApp(simpleLogger()(nullLogger()(logs)), async (fetch, ctx) => {
      await (await fetch('/')).text()
      expect(ctx.errors()).toBe('')
    })
  })

  it('rejects options', () => {
    expect(() => nullLogger({ level: 'info' } as never)).toThrow("NullLogger: unknown option 'level'")
  })
})
