/**
 * Small helpers for AbortSignal plumbing. Every listener added here comes with
 * its own remover, so a wait always undoes its registration when it ends.
 */

/**
 * The abort listeners aiokit holds on one signal, behind a single real
 * listener. A signal shared by a group, a map() or a whole CLI run has one
 * waiter per call in flight, and an EventTarget walks its whole listener list
 * on every add and remove (to skip duplicates): 256 waiters made each
 * add/remove pair cost about 1 µs, 1,024 about 5 µs. A Set makes both O(1).
 */
/** A function, or an object with `handleEvent` (so a waiter can be its own listener). */
export type AbortListener = (() => void) | { handleEvent(): void };

interface Fanout {
  readonly listeners: Set<AbortListener>;
  readonly dispatch: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `listener` once when `signal` aborts, like
 * `signal.addEventListener("abort", listener, { once: true })` in O(1).
 * Adding the same function twice adds it once. A listener added after the
 * signal aborted is never called (check `signal.aborted` first).
 */
export function addAbortListener(signal: AbortSignal, listener: AbortListener): void {
  let fanout = fanouts.get(signal);
  if (fanout === undefined) {
    const listeners = new Set<AbortListener>();
    const dispatch = (): void => {
      // Live iteration: a listener removed by an earlier one is skipped, as on an EventTarget.
      for (const each of listeners) {
        try {
          if (typeof each === "function") each();
          else each.handleEvent();
        } catch (error) {
          queueMicrotask(() => {
            throw error; // reported like an EventTarget listener's error, after the others ran
          });
        }
      }
      listeners.clear();
      if (fanouts.get(signal) === fanout) fanouts.delete(signal);
    };
    fanout = { listeners, dispatch };
    fanouts.set(signal, fanout);
    signal.addEventListener("abort", dispatch, { once: true });
  }
  fanout.listeners.add(listener);
}

/** Removes a listener added with {@link addAbortListener}; the real listener goes with the last one. */
export function removeAbortListener(signal: AbortSignal, listener: AbortListener): void {
  const fanout = fanouts.get(signal);
  if (fanout === undefined || !fanout.listeners.delete(listener)) return;
  if (fanout.listeners.size === 0) {
    signal.removeEventListener("abort", fanout.dispatch);
    fanouts.delete(signal);
  }
}

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
