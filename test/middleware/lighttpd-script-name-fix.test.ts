import { describe, expect, it } from 'vitest'
import { lighttpdScriptNameFix } from '../../middleware/lighttpd-script-name-fix.js'
import type { Env, Triple } from '../../src/types.js'

async function paths(options: object, env: Record<string, string>): Promise<[string, string]> {
  const app = lighttpdScriptNameFix(options)((e) => [200, [], [e.SCRIPT_NAME, '|', e.PATH_INFO]])
  const res = (await app({ ...env } as unknown as Env)) as Triple
  const [script, , path] = res[2] as string[]
  return [script!, path!]
}

const lighttpd = 'lighttpd/1.4.59'

describe('LighttpdScriptNameFix', () => {
  it.each<[string, object, Record<string, string>, [string, string]]>([
    [
      'root mount: the whole path goes to PATH_INFO',
      {},
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/a/b', PATH_INFO: '' },
      ['', '/a/b'],
    ],
    [
      'root mount with a PATH_INFO part',
      {},
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/x' },
      ['', '/app.fcgi/x'],
    ],
    [
      'Plack docs: /something/a/b with scriptName /something',
      { scriptName: '/something' },
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/something', PATH_INFO: '/a/b' },
      ['/something', '/a/b'],
    ],
    [
      'a trailing slash on scriptName is dropped',
      { scriptName: '/something/' },
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/something/a', PATH_INFO: '/b' },
      ['/something', '/a/b'],
    ],
    [
      'scriptName / means the root',
      { scriptName: '/' },
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/a', PATH_INFO: '' },
      ['', '/a'],
    ],
    [
      'exactly the mount point',
      { scriptName: '/something' },
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/something', PATH_INFO: '' },
      ['/something', ''],
    ],
    [
      'the prefix splits only at a segment boundary',
      { scriptName: '/some' },
      { SERVER_SOFTWARE: lighttpd, SCRIPT_NAME: '/something', PATH_INFO: '/a' },
      ['', '/something/a'],
    ],
    [
      'other servers pass untouched',
      { scriptName: '/something' },
      { SERVER_SOFTWARE: 'nginx', SCRIPT_NAME: '/x', PATH_INFO: '/y' },
      ['/x', '/y'],
    ],
    ['no SERVER_SOFTWARE passes untouched', {}, { SCRIPT_NAME: '/x', PATH_INFO: '/y' }, ['/x', '/y']],
  ])('%s', async (_, options, env, expected) => {
    expect(await paths(options, env)).toEqual(expected)
  })

  it.each<[unknown, RegExp]>([
    [{ scriptName: 'something' }, /LighttpdScriptNameFix: option 'scriptName' must be '' or start with '\/'/],
    [{ scriptName: 1 }, /LighttpdScriptNameFix: option 'scriptName' must be a string/],
    [{ script_name: '/x' }, /LighttpdScriptNameFix: unknown option 'script_name'/],
  ])('rejects %j', (options, message) => {
    expect(() => lighttpdScriptNameFix(options as never)).toThrow(TypeError)
    expect(() => lighttpdScriptNameFix(options as never)).toThrow(message)
  })
})
