import { neverAborted } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber } from "../_internal/describe.js";
import { refuseWait, WaitNode, WaitQueue } from "../_internal/wait-queue.js";
import { CancelledError } from "../errors.js";
import type { LimitOptions } from "./limiter.js";

/** Options of {@link keyedLimiter}. */
export interface KeyedLimiterOptions {
  /** Most calls running at once for one key: an integer from 1 and up. */
  readonly perKey: number;
  /** Most calls running at once in all (default `Infinity`). */
  readonly concurrency?: number | undefined;
}

/**
 * The function {@link keyedLimiter} returns: `limit(key, fn, { signal }?)` runs
 * `fn` when fewer than `perKey` calls with that key, and fewer than
 * `concurrency` calls in all, are running.
 *
 * @example
 * ```ts
 * import { keyedLimiter, type KeyedLimit } from "aiokit";
 * const limit: KeyedLimit<string> = keyedLimiter({ perKey: 2, concurrency: 16 });
 * await limit(tenantId, (signal) => syncTenant(tenantId, { signal }));
 * console.log(limit.activeCountOf(tenantId), limit.keyCount);
 * ```
 */
export interface KeyedLimit<K = unknown> {
  <R>(
    key: K,
    fn: (signal: AbortSignal) => R | PromiseLike<R>,
    options?: LimitOptions,
  ): Promise<Awaited<R>>;
  /** Calls running now, all keys together. */
  readonly activeCount: number;
  /** Calls waiting now, all keys together. */
  readonly pendingCount: number;
  /** Calls with `key` running now. */
  activeCountOf(key: K): number;
  /** Calls with `key` waiting now. */
  pendingCountOf(key: K): number;
  /** Keys with calls running or waiting now; a key with no work left is forgotten. */
  readonly keyCount: number;
  /** Most calls running at once per key. */
  readonly perKey: number;
  /** Most calls running at once in all. */
  readonly concurrency: number;
  /** Removes every waiting call; each rejects with a {@link CancelledError}. Idempotent. */
  clearQueue(): void;
}

type Fn = (signal: AbortSignal) => unknown;

// A waiting call: first in its key's queue (waiting for the key to have
// room), then in the shared ready queue (its key's slot reserved, waiting for
// the overall limit). It keeps its promise and its signal's listener as the
// wait queue moves it from one to the other.
class Entry extends WaitNode<KeyedCore> {
  readonly state: KeyState;
  readonly fn: Fn;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;

  constructor(
    state: KeyState,
    fn: Fn,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    super();
    this.state = state;
    this.fn = fn;
    this.resolve = resolve;
    this.reject = reject;
  }

  // Granted by the ready queue: the overall limit has room.
  granted(core: KeyedCore): void {
    this.state.reserved--;
    core.pending--;
    core.start(this.state, this.fn, this.signal ?? neverAborted).then(this.resolve, this.reject);
  }

  refused(reason: unknown): void {
    this.reject(reason);
  }
}

interface KeyState {
  readonly key: unknown;
  active: number;
  /** Entries of this key in the ready queue (each holds one of the key's slots). */
  reserved: number;
  /** Entries waiting for the key to have room. */
  readonly queue: WaitQueue<KeyedCore>;
}

class KeyedCore {
  readonly perKey: number;
  readonly concurrency: number;
  active = 0;
  pending = 0;
  readonly keys = new Map<unknown, KeyState>();
  // An entry that leaves a key's queue on abort frees nothing but its key.
  readonly #onKeyAbandon = (entry: WaitNode<KeyedCore>): void => {
    this.pending--;
    this.#forgetIfIdle((entry as Entry).state);
  };
  // One that leaves the ready queue gives its key's slot to the next in line.
  readonly #ready = new WaitQueue<KeyedCore>((entry) => {
    const state = (entry as Entry).state;
    this.pending--;
    state.reserved--;
    this.#promote(state);
    this.#forgetIfIdle(state);
    this.#drain();
  });

  constructor(perKey: number, concurrency: number) {
    this.perKey = perKey;
    this.concurrency = concurrency;
  }

  call(key: unknown, fn: Fn, options: LimitOptions | undefined): Promise<unknown> {
    const signal = options?.signal;
    try {
      expectFunction("`fn`", fn);
    } catch (error) {
      return Promise.reject(error);
    }
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    let state = this.keys.get(key);
    if (state === undefined) {
      state = { key, active: 0, reserved: 0, queue: new WaitQueue(this.#onKeyAbandon) };
      this.keys.set(key, state);
    }
    const keyHasRoom = state.active + state.reserved < this.perKey;
    if (keyHasRoom && this.active < this.concurrency && this.#ready.size === 0) {
      return this.start(state, fn, signal ?? neverAborted);
    }
    const owner = state;
    this.pending++;
    return new Promise((resolve, reject) => {
      const entry = new Entry(owner, fn, resolve, reject);
      if (keyHasRoom) {
        owner.reserved++;
        this.#ready.enqueue(entry, signal);
      } else {
        owner.queue.enqueue(entry, signal);
      }
    });
  }

  // The key has room again: its next waiting entries become ready.
  #promote(state: KeyState): void {
    while (state.active + state.reserved < this.perKey && state.queue.moveFirstTo(this.#ready)) {
      state.reserved++;
    }
  }

  #forgetIfIdle(state: KeyState): void {
    if (state.active === 0 && state.reserved === 0 && state.queue.size === 0) {
      this.keys.delete(state.key);
    }
  }

  /** Runs `fn` in one of `state`'s slots (and one of the overall ones). */
  start(state: KeyState, fn: Fn, signal: AbortSignal): Promise<unknown> {
    state.active++;
    this.active++;
    const done = (): void => {
      this.active--;
      state.active--;
      this.#promote(state);
      this.#forgetIfIdle(state);
      this.#drain();
    };
    let result: unknown;
    try {
      result = fn(signal);
    } catch (error) {
      return Promise.reject(error).then(undefined, (e: unknown) => {
        done();
        throw e;
      });
    }
    return Promise.resolve(result).then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  #drain(): void {
    while (this.active < this.concurrency && this.#ready.wakeOne(this));
  }

  clear(): void {
    const rejected = (): CancelledError =>
      new CancelledError("The call was removed from the keyed limiter's queue by clearQueue()");
    while (this.#ready.size > 0) this.#ready.rejectOne(rejected());
    for (const state of this.keys.values()) {
      while (state.queue.size > 0) state.queue.rejectOne(rejected());
    }
    this.pending = 0;
    for (const state of [...this.keys.values()]) {
      state.reserved = 0;
      this.#forgetIfIdle(state);
    }
  }
}

/**
 * Creates a limiter per key with an overall cap: "at most 4 requests per host,
 * 64 in all". `limit(key, fn)` runs `fn` when fewer than `perKey` calls with
 * the same key and fewer than `concurrency` calls in all are running; other
 * calls wait, first come, first served (a call whose key is busy never blocks
 * calls of other keys behind it). Keys are compared as `Map` keys are.
 *
 * A key is remembered only while it has calls running or waiting: when its
 * last call ends, nothing about it is kept, so a limiter keyed by user id or
 * URL host doesn't grow without bound.
 *
 * Cancellation and errors as for {@link limiter}: a call's `{ signal }` removes
 * it from the queue when it aborts (rejecting with its reason) and is passed to
 * `fn`; a call's error rejects that call only.
 *
 * @example
 * ```ts
 * import { keyedLimiter } from "aiokit";
 * const limit = keyedLimiter({ perKey: 4, concurrency: 64 });
 * const pages = await Promise.all(
 *   urls.map((url) => limit(new URL(url).host, (signal) => fetch(url, { signal }))),
 * );
 * limit.activeCountOf("example.com"); // calls for that host running now
 * ```
 */
export function keyedLimiter<K = unknown>(options: KeyedLimiterOptions): KeyedLimit<K> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Expected keyedLimiter options to be an object like { perKey, concurrency? }, got ${describe(options)}`,
    );
  }
  expectNumber("`perKey`", options.perKey, { min: 1, integer: true, allowInfinity: true });
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true, allowInfinity: true });
  const core = new KeyedCore(options.perKey, concurrency);
  const limit = ((key: unknown, fn: Fn, callOptions?: LimitOptions) =>
    core.call(key, fn, callOptions)) as KeyedLimit<K>;
  Object.defineProperties(limit, {
    activeCount: { get: () => core.active, enumerable: true },
    pendingCount: { get: () => core.pending, enumerable: true },
    keyCount: { get: () => core.keys.size, enumerable: true },
    perKey: { value: core.perKey, enumerable: true },
    concurrency: { value: core.concurrency, enumerable: true },
    activeCountOf: { value: (key: K) => core.keys.get(key)?.active ?? 0, enumerable: true },
    pendingCountOf: {
      value: (key: K) => {
        const state = core.keys.get(key);
        return state === undefined ? 0 : state.queue.size + state.reserved;
      },
      enumerable: true,
    },
    clearQueue: { value: () => core.clear(), enumerable: true },
  });
  return limit;
}
