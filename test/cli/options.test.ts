/** The command line of tsgiup: parsing, defaults and every usage error, as tables. */
import { describe, expect, it } from 'vitest'
import { CliError } from '../../src/cli/errors.js'
import { parseCommandLine, parseListen } from '../../src/cli/options.js'

describe('parseCommandLine', () => {
  it('has plackup-like defaults', () => {
    expect(parseCommandLine([])).toEqual({
      appFile: undefined,
      evalCode: undefined,
      listen: [{ port: 5000 }],
      server: 'node',
      environment: 'development',
      reload: false,
      reloadPaths: [],
      modules: [],
      workers: undefined,
      accessLog: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      keepAliveTimeout: undefined,
      shutdownTimeout: undefined,
      help: false,
      version: false,
    })
  })

  it.each([
    [['app.ts'], { appFile: 'app.ts' }],
    [['-a', 'x.ts'], { appFile: 'x.ts' }],
    [['--app=x.ts', 'x.ts'], { appFile: 'x.ts' }],
    [['-o', '127.0.0.1', '-p', '8080'], { listen: [{ host: '127.0.0.1', port: 8080 }] }],
    [['--host=::1', '--port=0'], { listen: [{ host: '::1', port: 0 }] }],
    [['-p8080'], { listen: [{ port: 8080 }] }],
    [['-l', ':80', '-l', '/tmp/s.sock'], { listen: [{ port: 80 }, { path: '/tmp/s.sock' }] }],
    [['-E', 'production'], { environment: 'production' }],
    [['--env', 'test'], { environment: 'test' }],
    [['-r'], { reload: true, reloadPaths: [] }],
    [['-R', 'lib,config', '-R', 'views'], { reload: true, reloadPaths: ['lib', 'config', 'views'] }],
    [['-M', 'dotenv/config', '--module', './setup.ts'], { modules: ['dotenv/config', './setup.ts'] }],
    [['-e', '() => []'], { evalCode: '() => []' }],
    [['--workers', '4'], { workers: 4 }],
    [['-w', '2'], { workers: 2 }],
    [['--access-log', 'a.log'], { accessLog: 'a.log' }],
    [['--tls-cert', 'c.pem', '--tls-key', 'k.pem'], { tlsCert: 'c.pem', tlsKey: 'k.pem' }],
    [['--keep-alive-timeout', '750'], { keepAliveTimeout: 750 }],
    [['--shutdown-timeout', '2.5s'], { shutdownTimeout: 2500 }],
    [['--shutdown-timeout', '300ms'], { shutdownTimeout: 300 }],
    [['-s', 'node'], { server: 'node' }],
    [['-h'], { help: true }],
    [['--version'], { version: true }],
  ])('%j', (argv, expected) => {
    expect(parseCommandLine(argv)).toMatchObject(expected)
  })

  it.each([
    [{ TSGI_ENV: 'staging', NODE_ENV: 'production' }, 'staging'],
    [{ NODE_ENV: 'production' }, 'production'],
    [{}, 'development'],
  ])('takes the default environment from %j', (env, expected) => {
    expect(parseCommandLine([], env).environment).toBe(expected)
    expect(parseCommandLine(['-E', 'x'], env).environment).toBe('x')
  })

  it.each([
    [['--nope'], 'unknown option --nope'],
    [['-Z'], 'unknown option -Z'],
    [['--port'], 'option --port needs a value'],
    [['--reload=yes'], 'option --reload takes no value'],
    [['-p', 'http'], "option -p/--port must be a whole number from 0 to 65535, got 'http'"],
    [['-p', '-1'], 'option -p needs a value'],
    [['--port=-1'], 'option -p/--port must be a whole number'],
    [['-o', ''], 'option -o/--host must not be empty'],
    [['-l', ':5000', '-p', '80'], '-l/--listen cannot be combined with -o/--host or -p/--port'],
    [['-l', 'host:port'], "option -l/--listen takes host:port or a socket path, got 'host:port'"],
    [['-l', '1.2.3.4:70000'], 'option -l/--listen must be a whole number from 0 to 65535'],
    [['-s', 'starman'], "unknown server 'starman' for -s/--server (known: node, http2, fastcgi, cgi)"],
    [['--workers', 'two'], 'option --workers must be a whole number from 1 to 1024'],
    [['--keep-alive-timeout', '5 minutes'], 'option --keep-alive-timeout must be a duration'],
    [['--tls-cert', 'c.pem'], '--tls-cert and --tls-key go together: give both'],
    [['a.ts', 'b.ts'], 'one app file at most, got a.ts b.ts'],
    [['-a', 'a.ts', 'b.ts'], 'the app file is given twice: --app a.ts and b.ts'],
    [['-e', 'x', 'a.ts'], 'give either -e/--eval code or an app file, not both'],
    [['-e', ' '], 'option -e/--eval needs code'],
  ])('rejects %j', (argv, message) => {
    let caught: unknown
    try {
      parseCommandLine(argv)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(CliError)
    expect((caught as CliError).exitCode).toBe(2)
    expect((caught as CliError).message).toContain(message)
    expect((caught as CliError).message).toMatch(/\(see tsgiup --help\)$/)
  })
})

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:5000', { host: '127.0.0.1', port: 5000 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    [':8080', { port: 8080 }],
    ['8080', { port: 8080 }],
    ['/run/app.sock', { path: '/run/app.sock' }],
    ['./app.sock', { path: './app.sock' }],
    ['app.sock', { path: 'app.sock' }],
  ])('%s', (value, expected) => {
    expect(parseListen(value)).toEqual(expected)
  })
})
