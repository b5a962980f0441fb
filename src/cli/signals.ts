/**
 * How a tsgiup process learns it should stop: SIGTERM or SIGINT (the cluster primary and the
 * reload supervisor pass SIGTERM on to their children), or the loss of the process that
 * started it. A second SIGINT while stopping (a second Ctrl-C) ends the process at once; a
 * repeated SIGTERM changes nothing.
 */

/** The IPC messages between tsgiup processes. */
export type TsgiupMessage =
  | { readonly tsgiup: 'ready'; readonly urls: readonly string[]; readonly ports: readonly number[] }
  | { readonly tsgiup: 'fatal'; readonly message: string; readonly exitCode: number }

/** Narrows an IPC message to a {@link TsgiupMessage}. */
export function isTsgiupMessage(value: unknown): value is TsgiupMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { tsgiup?: unknown }).tsgiup === 'string'
  )
}

/** A pending stop request. */
export interface StopRequest {
  /** Resolves with what asked to stop: 'SIGTERM', 'SIGINT' or 'disconnect'. */
  readonly requested: Promise<string>
  /** Removes the listeners. */
  dispose(): void
}

/** Starts listening for stop requests; `force` runs on a second SIGINT. */
export function whenStopRequested(force: (signal: string) => void): StopRequest {
  let stopping = false
  let finish: (why: string) => void = () => {}
  const requested = new Promise<string>((resolve) => {
    finish = resolve
  })
  const stop = (why: string) => {
    if (!stopping) {
      stopping = true
      finish(why)
    }
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping && signal !== 'SIGTERM') force(signal)
    else stop(signal)
  }
  const onDisconnect = () => stop('disconnect')
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('disconnect', onDisconnect)
  return {
    requested,
    dispose() {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      process.off('disconnect', onDisconnect)
    },
  }
}

/** Sends `message` to the parent process and resolves once it is on its way. */
export function sendToParent(message: TsgiupMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve()
    process.send(message, undefined, {}, () => resolve())
  })
}
