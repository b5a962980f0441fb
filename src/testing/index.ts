export {
  type ErrorLog,
  errorLog,
  type TestCallback,
  type TestContext,
  type TestFetch,
  type TestImpl,
  type TestImplOptions,
} from './harness.js'
export { MockHTTP } from './mock-http.js'
export {
  ErrorSink,
  type RequestBody,
  type RequestEnvInput,
  type RequestEnvOptions,
  type RequestHeaders,
  requestEnv,
} from './request-env.js'
export { type ResponseOutcome, runResponse } from './run-response.js'
export { Server } from './server.js'
export {
  runServerSuite,
  type ServerSuiteOptions,
  type SuiteCase,
  type SuiteCheckContext,
  type SuiteFramework,
  type SuiteProtocol,
  type SuiteServer,
  type SuiteStartContext,
  serverSuiteCases,
} from './suite.js'
export { type TestAppOptions, type TestImplName, testApp, testImpl } from './test-app.js'
