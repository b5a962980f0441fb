/**
 * The built-in middleware the builder knows by their Plack names: a static, typed table from
 * each name to its options type and factory. Each factory validates its own options (unknown
 * keys included) and throws a TypeError naming itself, so the builder needs no per-name code.
 *
 * To add a built-in: one line in {@link BuiltinMiddleware} and one in {@link builtins}.
 */

import { type AccessLogOptions, accessLog } from '../middleware/access-log.js'
import { type AccessLogTimedOptions, accessLogTimed } from '../middleware/access-log-timed.js'
import { type AuthBasicOptions, authBasic } from '../middleware/auth-basic.js'
import { type BufferedStreamingOptions, bufferedStreaming } from '../middleware/buffered-streaming.js'
import { type ChunkedOptions, chunked } from '../middleware/chunked.js'
import { type ConditionalOptions, conditional } from '../middleware/conditional.js'
import { type ConditionalGetOptions, conditionalGet } from '../middleware/conditional-get.js'
import { type ContentLengthOptions, contentLength } from '../middleware/content-length.js'
import { type ContentMd5Options, contentMd5 } from '../middleware/content-md5.js'
import { type DeflaterOptions, deflater } from '../middleware/deflater.js'
import { type ErrorDocumentOptions, errorDocument } from '../middleware/error-document.js'
import { type EtagOptions, etag } from '../middleware/etag.js'
import { type HeadOptions, head } from '../middleware/head.js'
import { type HttpExceptionsOptions, httpExceptions } from '../middleware/http-exceptions.js'
import { type JsonpOptions, jsonp } from '../middleware/jsonp.js'
import {
  type LighttpdScriptNameFixOptions,
  lighttpdScriptNameFix,
} from '../middleware/lighttpd-script-name-fix.js'
import { type LintOptions, lint } from '../middleware/lint.js'
import { type NullLoggerOptions, nullLogger } from '../middleware/null-logger.js'
import { type RearrangeHeadersOptions, rearrangeHeaders } from '../middleware/rearrange-headers.js'
import { type RecursiveOptions, recursive } from '../middleware/recursive.js'
import { type RuntimeOptions, runtime } from '../middleware/runtime.js'
import { type SessionOptions, session } from '../middleware/session.js'
import { type SessionCookieOptions, sessionCookie } from '../middleware/session-cookie.js'
import { type SimpleContentFilterOptions, simpleContentFilter } from '../middleware/simple-content-filter.js'
import { type SimpleLoggerOptions, simpleLogger } from '../middleware/simple-logger.js'
import { type StackTraceOptions, stackTrace } from '../middleware/stack-trace.js'
import { type StaticFilesOptions, staticFiles } from '../middleware/static.js'
import { type XFrameworkOptions, xFramework } from '../middleware/x-framework.js'
import { type XSendfileOptions, xSendfile } from '../middleware/x-sendfile.js'
import type { Middleware } from '../src/types.js'

/** Plack name → options type of every built-in middleware. `| undefined`: options may be left out. */
export interface BuiltinMiddleware {
  Lint: LintOptions | undefined
  Conditional: ConditionalOptions
  ConditionalGET: ConditionalGetOptions | undefined
  ETag: EtagOptions | undefined
  ContentLength: ContentLengthOptions | undefined
  Chunked: ChunkedOptions | undefined
  Head: HeadOptions | undefined
  ContentMD5: ContentMd5Options | undefined
  BufferedStreaming: BufferedStreamingOptions | undefined
  SimpleContentFilter: SimpleContentFilterOptions
  AccessLog: AccessLogOptions | undefined
  'AccessLog::Timed': AccessLogTimedOptions | undefined
  SimpleLogger: SimpleLoggerOptions | undefined
  NullLogger: NullLoggerOptions | undefined
  Runtime: RuntimeOptions | undefined
  XFramework: XFrameworkOptions
  RearrangeHeaders: RearrangeHeadersOptions | undefined
  LighttpdScriptNameFix: LighttpdScriptNameFixOptions | undefined
  HTTPExceptions: HttpExceptionsOptions | undefined
  StackTrace: StackTraceOptions | undefined
  ErrorDocument: ErrorDocumentOptions
  Recursive: RecursiveOptions | undefined
  JSONP: JsonpOptions | undefined
  'Auth::Basic': AuthBasicOptions
  Deflater: DeflaterOptions | undefined
  XSendfile: XSendfileOptions | undefined
  Static: StaticFilesOptions
  Session: SessionOptions | undefined
  'Session::Cookie': SessionCookieOptions
}

/** A Plack middleware name the builder knows. */
export type BuiltinName = keyof BuiltinMiddleware

/** The factory type of each built-in. */
export type BuiltinFactories = { readonly [N in BuiltinName]: (options: BuiltinMiddleware[N]) => Middleware }

/** Plack name → factory. */
export const builtins = {
  Lint: lint,
  Conditional: conditional,
  ConditionalGET: conditionalGet,
  ETag: etag,
  ContentLength: contentLength,
  Chunked: chunked,
  Head: head,
  ContentMD5: contentMd5,
  BufferedStreaming: bufferedStreaming,
  SimpleContentFilter: simpleContentFilter,
  AccessLog: accessLog,
  'AccessLog::Timed': accessLogTimed,
  SimpleLogger: simpleLogger,
  NullLogger: nullLogger,
  Runtime: runtime,
  XFramework: xFramework,
  RearrangeHeaders: rearrangeHeaders,
  LighttpdScriptNameFix: lighttpdScriptNameFix,
  HTTPExceptions: httpExceptions,
  StackTrace: stackTrace,
  ErrorDocument: errorDocument,
  Recursive: recursive,
  JSONP: jsonp,
  'Auth::Basic': authBasic,
  Deflater: deflater,
  XSendfile: xSendfile,
  Static: staticFiles,
  Session: session,
  'Session::Cookie': sessionCookie,
} as const satisfies BuiltinFactories

/** True when `name` is a built-in's Plack name. */
export function isBuiltinName(name: string): name is BuiltinName {
  return Object.hasOwn(builtins, name)
}

/** Builds the built-in `name` with `options`; throws a TypeError for an unknown name. */
export function buildBuiltin(name: string, options: unknown): Middleware {
  if (!isBuiltinName(name)) {
    throw new TypeError(
      `enable: unknown middleware '${name}' (built-ins: ${Object.keys(builtins).join(', ')})`,
    )
  }
  // Options are checked at run time by the factory itself; the name/options pairing is
  // enforced by the types of `enable`.
  const factory = builtins[name] as (options: unknown) => Middleware
  return factory(options)
}
