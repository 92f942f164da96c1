/**
 * Small helpers for AbortSignal plumbing. Every listener added here comes with
 * its own remover, so a wait always undoes its registration when it ends.
 */

// The O(1) fan-out is public (aiokit's entry): the CLI and users need it too.
import { type AbortListener, addAbortListener, removeAbortListener } from "../abort-listeners.js";

export { type AbortListener, addAbortListener, removeAbortListener };

/** Calls `onAbort` once when `signal` aborts; returns a function that removes the listener. */
export function onAbort(
  signal: AbortSignal | undefined,
  onAbort: (reason: unknown) => void,
): () => void {
  if (signal === undefined) return noop;
  const listener = (): void => onAbort(signal.reason);
  addAbortListener(signal, listener);
  return () => removeAbortListener(signal, listener);
}

/**
 * Aborts `controller` when `parent` aborts (with the parent's reason); returns the
 * unlink function. When `parent` is already aborted, aborts at once.
 */
export function link(parent: AbortSignal | undefined, controller: AbortController): () => void {
  if (parent === undefined) return noop;
  if (parent.aborted) {
    controller.abort(parent.reason);
    return noop;
  }
  return onAbort(parent, (reason) => controller.abort(reason));
}

export function noop(): void {}

type SetMaxListeners = (n: number, ...targets: EventTarget[]) => void;
// Node warns ("possible EventTarget memory leak") past 10 listeners on one
// signal, but a signal shared by a whole group or map() has one listener per
// fetch in flight by design. Found at run time, without a `node:` import, so
// the core still runs everywhere; elsewhere this is a no-op.
const setMaxListeners: SetMaxListeners | undefined = (() => {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const events = host?.getBuiltinModule?.("node:events") as
    | { setMaxListeners?: SetMaxListeners }
    | undefined;
  return events?.setMaxListeners;
})();

/** An AbortController whose signal may be shared by any number of listeners without a warning. */
export function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners?.(0, controller.signal);
  return controller;
}

/** A signal that never aborts, shared (creating AbortControllers is not free). */
export const neverAborted: AbortSignal = sharedController().signal;
