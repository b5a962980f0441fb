import { describe, expect, it } from 'vitest'
import { formatLogMessage, simpleLogger } from '../../middleware/simple-logger.js'
import { testApp } from '../../src/testing/index.js'
import type { App, LogLevel } from '../../src/types.js'
import { pinTimeZone } from './log-capture.js'

pinTimeZone('UTC')

const fixed = () => new Date('2009-10-18T12:34:56Z')

describe('SimpleLogger', () => {
  // Plack's simple_logger.t: the app reads back what its own tsgi.errors got.
  it('writes messages at the level and above, and drops the ones below', async () => {
    const app: App = (env) => {
      const lines: string[] = []
      env['tsgi.errors'] = { write: (m: string) => lines.push(m) }
      env['tsgix.logger']!({ level: 'debug', message: 'This is debug' })
      env['tsgix.logger']!({ level: 'info', message: 'This is info' })
      return [200, [], lines]
    }
    await testApp(simpleLogger({ level: 'info' })(app), async (fetch) => {
      const text = await (await fetch('/')).text()
      expect(text).toMatch(/This is info/)
      expect(text).not.toMatch(/This is debug/)
    })
  })

  it('writes lines in Plack form to tsgi.errors', async () => {
    const app: App = (env) => {
      env['tsgix.logger']!({ level: 'warn', message: 'disk almost full' })
      return [200, [], ['ok']]
    }
    await testApp(simpleLogger({ now: fixed })(app), async (fetch, ctx) => {
      await (await fetch('/')).text()
      expect(ctx.errors()).toBe(`W [2009-10-18T12:34:56 #${process.pid}] WARN: disk almost full\n`)
    })
  })

  it.each<[LogLevel | undefined, LogLevel[]]>([
    [undefined, ['debug', 'info', 'warn', 'error', 'fatal']],
    ['debug', ['debug', 'info', 'warn', 'error', 'fatal']],
    ['info', ['info', 'warn', 'error', 'fatal']],
    ['warn', ['warn', 'error', 'fatal']],
    ['error', ['error', 'fatal']],
    ['fatal', ['fatal']],
  ])('with level %s writes %j', async (level, written) => {
    const app: App = (env) => {
      for (const l of ['debug', 'info', 'warn', 'error', 'fatal'] as const)
        env['tsgix.logger']!({ level: l, message: l })
      return [204, [], []]
    }
    await testApp(simpleLogger(level ? { level } : {})(app), async (fetch, ctx) => {
      await fetch('/')
      const levels = ctx
        .errors()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^.*: /, ''))
      expect(levels).toEqual(written)
    })
  })

  it('formats a message as Plack does', () => {
    expect(formatLogMessage('fatal', 'boom', fixed())).toBe(
      `F [2009-10-18T12:34:56 #${process.pid}] FATAL: boom\n`,
    )
  })

  it.each<[unknown, RegExp]>([
    [
      { level: 'verbose' },
      /SimpleLogger: option 'level' must be one of 'debug', 'info', 'warn', 'error', 'fatal'/,
    ],
    [{ level: 1 }, /SimpleLogger: option 'level'/],
    [{ now: 'now' }, /SimpleLogger: option 'now' must be a function/],
    [{ lvl: 'info' }, /SimpleLogger: unknown option 'lvl'/],
  ])('rejects %j', (options, message) => {
    expect(() => simpleLogger(options as never)).toThrow(TypeError)
    expect(() => simpleLogger(options as never)).toThrow(message)
  })
})
