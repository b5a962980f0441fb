/**
 * The server conformance suite through a real nginx in front of `tsgi/server/fastcgi`: each case
 * gets a FastCGI server on a unix socket of its own and an nginx passing the site's root to it,
 * with one of the documented configurations (test/fixtures/fastcgi-configs.ts): the streaming
 * one (an upstream with `keepalive`, `fastcgi_keep_conn on`, `fastcgi_buffering off`,
 * `fastcgi_request_buffering off`), and the plain one (`fastcgi_pass unix:…`, nginx's defaults).
 * The suite's client speaks HTTP/1.1 to nginx. Cases a configuration cannot pass are left out,
 * each with the reason nginx forces. Without nginx the suite skips with a printed reason (fails
 * under TSGI_REQUIRE_INTEGRATION=1).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, it } from 'vitest'
import { serve } from '../../src/server/fastcgi.js'
import { runServerSuite } from '../../src/testing/suite.js'
import { nginxRoot, nginxUpstream } from '../fixtures/fastcgi-configs.js'
import { nginxFastcgiMissing, nginxFastcgiParams, startNginx } from './nginx-fixture.js'
import { skipWithout } from './tls-fixture.js'

/** Cases nginx in front of FastCGI cannot pass whatever its configuration, with the reason. */
const THROUGH_NGINX_CANNOT: Readonly<Record<string, string>> = {
  // fastcgi_params: `SERVER_NAME $server_name`, the server block's name, whatever the request said
  'validate env': "nginx sends its server_name as SERVER_NAME, not the request's host",
  // Debian's fastcgi_params sends `HTTP_HOST $host` (a security workaround of the package);
  // nginx's own file leaves HTTP_HOST to the Host header as it came
  'Host header': "Debian's fastcgi_params sends HTTP_HOST without the port",
}

/**
 * Cases the plain configuration cannot pass besides: with fastcgi_buffering on and no keep_conn,
 * nginx holds a streamed response back until its buffers fill or the response ends, so the
 * client never sees the first chunk these cases wait for before they leave or fail.
 */
const BUFFERED_CANNOT: Readonly<Record<string, string>> = {
  'client disconnect aborts tsgix.signal and closes the body': 'nginx holds the first chunk back',
  'Writer.close resolves and does nothing after the client left': 'nginx holds the first chunk back',
  'an iterable body that throws after the head leaves the response cut off':
    'nginx holds the first chunk back',
  'a delayed response that rejects after its head leaves the response cut off':
    'nginx holds the first chunk back',
  'a never-ending iterable body is returned when the client leaves': 'nginx holds the first chunk back',
}

const skip = skipWithout('the conformance suite through nginx → FastCGI', nginxFastcgiMissing)

describe.skipIf(skip)('conformance through nginx → FastCGI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-suite-'))
  /** What a case left running when its check never returned (a timeout): stopped at the end. */
  const running = new Set<() => Promise<void>>()
  afterAll(async () => {
    await Promise.all([...running].map((stop) => stop()))
    rmSync(dir, { recursive: true, force: true })
  })
  let runs = 0
  const params = nginxFastcgiParams

  for (const streaming of [true, false]) {
    runServerSuite(
      { describe, it: (name, body) => it.concurrent(name, body, 20_000) },
      async (app, { errors }) => {
        const socket = join(dir, `app-${runs++}.sock`)
        const server = await serve(app, { path: socket, errors, shutdownTimeout: 1000 })
        const nginx = await startNginx(
          streaming
            ? {
                http: nginxUpstream(`unix:${socket}`),
                extra: nginxRoot({ pass: 'tsgi_app', keepConn: true, streaming: true, params }),
              }
            : { extra: nginxRoot({ pass: `unix:${socket}`, params }) },
        )
        const stop = async () => {
          running.delete(stop)
          await nginx.stop()
          await server.close()
        }
        running.add(stop)
        return { url: nginx.url, close: stop }
      },
      {
        name: `TSGI server conformance (nginx → FastCGI, ${streaming ? 'streaming' : 'plain'} configuration)`,
        skip: Object.keys(streaming ? THROUGH_NGINX_CANNOT : { ...THROUGH_NGINX_CANNOT, ...BUFFERED_CANNOT }),
      },
    )
  }
})
