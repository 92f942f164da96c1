/**
 * Abort listeners in O(1): many listeners on one AbortSignal behind a single
 * real one.
 * @module
 */

// A signal shared by a group, a map() or a whole CLI run has one waiter per
// call in flight, and an EventTarget walks its whole listener list on every
// add and remove (to skip duplicates): 256 waiters made each add/remove pair
// cost about 1 µs, 1,024 about 5 µs. A Set makes both O(1), and Node's
// "possible EventTarget memory leak" warning never sees more than one.

/** A function, or an object with `handleEvent` (so a waiter can be its own listener). */
export type AbortListener = (() => void) | { handleEvent(): void };

interface Fanout {
  readonly listeners: Set<AbortListener>;
  readonly dispatch: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `listener` once when `signal` aborts, as
 * `signal.addEventListener("abort", listener, { once: true })` does, but in
 * O(1) however many listeners share the signal, and without Node's
 * "possible EventTarget memory leak" warning past 10 of them: aiokit holds one
 * real listener per signal. Every wait in aiokit registers this way.
 *
 * Adding the same listener twice adds it once. A listener added after the
 * signal aborted is never called (check `signal.aborted` first, as with
 * `addEventListener`). Remove it with {@link removeAbortListener} when the
 * operation ends. Unlike Node's `events.addAbortListener`, it returns nothing.
 *
 * @example
 * ```ts
 * import { addAbortListener, removeAbortListener } from "aiokit";
 *
 * // One listener per request in flight, all on the run's signal.
 * const onAbort = () => console.log("cancelled");
 * if (!signal.aborted) addAbortListener(signal, onAbort);
 * try {
 *   await work();
 * } finally {
 *   removeAbortListener(signal, onAbort);
 * }
 * ```
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

/**
 * Removes a listener added with {@link addAbortListener} (nothing if it is not
 * there); the real listener on the signal goes with the last one.
 *
 * @example
 * ```ts
 * import { addAbortListener, removeAbortListener } from "aiokit";
 *
 * const handler = { handleEvent: () => console.log("aborted") };
 * addAbortListener(signal, handler);
 * removeAbortListener(signal, handler);
 * ```
 */
export function removeAbortListener(signal: AbortSignal, listener: AbortListener): void {
  const fanout = fanouts.get(signal);
  if (fanout === undefined || !fanout.listeners.delete(listener)) return;
  if (fanout.listeners.size === 0) {
    signal.removeEventListener("abort", fanout.dispatch);
    fanouts.delete(signal);
  }
}
