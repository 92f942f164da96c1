import { addAbortListener, neverAborted, removeAbortListener } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
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

const NOWHERE = 0;
const KEY_QUEUE = 1; // waiting for its key to have room
const READY = 2; // its key has room (reserved); waiting for the overall limit

interface Entry {
  readonly state: KeyState;
  readonly fn: Fn;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  where: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

interface List {
  head: Entry | undefined;
  tail: Entry | undefined;
}

interface KeyState {
  readonly key: unknown;
  active: number;
  /** Entries of this key in the ready list (each holds one of the key's slots). */
  reserved: number;
  /** Entries waiting for the key to have room. */
  waiting: number;
  readonly queue: List;
}

function append(list: List, entry: Entry): void {
  entry.prev = list.tail;
  entry.next = undefined;
  if (list.tail === undefined) list.head = entry;
  else list.tail.next = entry;
  list.tail = entry;
}

function unlink(list: List, entry: Entry): void {
  if (entry.prev === undefined) list.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === undefined) list.tail = entry.prev;
  else entry.next.prev = entry.prev;
  entry.prev = undefined;
  entry.next = undefined;
}

// Why not `_internal/wait-queue.ts`: an entry moves from its key's queue to
// the shared ready list when its key has room, keeping its promise; a wait
// queue's waiter belongs to one queue and settles when it leaves it.
class KeyedCore {
  readonly perKey: number;
  readonly concurrency: number;
  active = 0;
  pending = 0;
  readonly keys = new Map<unknown, KeyState>();
  readonly #ready: List = { head: undefined, tail: undefined };

  constructor(perKey: number, concurrency: number) {
    this.perKey = perKey;
    this.concurrency = concurrency;
  }

  call(key: unknown, fn: Fn, options: LimitOptions | undefined): Promise<unknown> {
    const signal = options?.signal;
    try {
      expectFunction("`fn`", fn);
      expectSignal(signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    let state = this.keys.get(key);
    if (state === undefined) {
      state = {
        key,
        active: 0,
        reserved: 0,
        waiting: 0,
        queue: { head: undefined, tail: undefined },
      };
      this.keys.set(key, state);
    }
    const keyHasRoom = state.active + state.reserved < this.perKey;
    if (keyHasRoom && this.active < this.concurrency && this.#ready.head === undefined) {
      state.active++;
      this.active++;
      return this.#start(state, fn, signal ?? neverAborted);
    }
    const owner = state;
    return new Promise((resolve, reject) => {
      const entry: Entry = {
        state: owner,
        fn,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        where: NOWHERE,
        prev: undefined,
        next: undefined,
      };
      this.pending++;
      if (keyHasRoom) this.#makeReady(entry);
      else {
        entry.where = KEY_QUEUE;
        owner.waiting++;
        append(owner.queue, entry);
      }
      if (signal !== undefined) {
        entry.onAbort = () => {
          entry.onAbort = undefined;
          this.#remove(entry);
          this.#promote(owner);
          this.#forgetIfIdle(owner);
          this.#drain();
          reject(signal.reason);
        };
        addAbortListener(signal, entry.onAbort);
      }
    });
  }

  #makeReady(entry: Entry): void {
    entry.where = READY;
    entry.state.reserved++;
    append(this.#ready, entry);
  }

  // Takes a waiting entry out of whichever list holds it.
  #remove(entry: Entry): void {
    if (entry.where === KEY_QUEUE) {
      unlink(entry.state.queue, entry);
      entry.state.waiting--;
    } else if (entry.where === READY) {
      unlink(this.#ready, entry);
      entry.state.reserved--;
    }
    entry.where = NOWHERE;
    this.pending--;
    if (entry.onAbort !== undefined) {
      if (entry.signal !== undefined) removeAbortListener(entry.signal, entry.onAbort);
      entry.onAbort = undefined;
    }
  }

  // The key has room again: its next waiting entry becomes ready.
  #promote(state: KeyState): void {
    while (state.queue.head !== undefined && state.active + state.reserved < this.perKey) {
      const entry = state.queue.head;
      unlink(state.queue, entry);
      state.waiting--;
      this.#makeReady(entry);
    }
  }

  #forgetIfIdle(state: KeyState): void {
    if (state.active === 0 && state.reserved === 0 && state.waiting === 0) {
      this.keys.delete(state.key);
    }
  }

  #start(state: KeyState, fn: Fn, signal: AbortSignal): Promise<unknown> {
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
    while (this.active < this.concurrency && this.#ready.head !== undefined) {
      const entry = this.#ready.head;
      this.#remove(entry);
      entry.state.active++;
      this.active++;
      this.#start(entry.state, entry.fn, entry.signal ?? neverAborted).then(
        entry.resolve,
        entry.reject,
      );
    }
  }

  clear(): void {
    const entries: Entry[] = [];
    for (let entry = this.#ready.head; entry !== undefined; entry = entry.next) entries.push(entry);
    for (const state of this.keys.values()) {
      for (let entry = state.queue.head; entry !== undefined; entry = entry.next)
        entries.push(entry);
    }
    for (const entry of entries) this.#remove(entry);
    for (const state of [...this.keys.values()]) this.#forgetIfIdle(state);
    for (const entry of entries) {
      entry.reject(
        new CancelledError("The call was removed from the keyed limiter's queue by clearQueue()"),
      );
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
        return state === undefined ? 0 : state.waiting + state.reserved;
      },
      enumerable: true,
    },
    clearQueue: { value: () => core.clear(), enumerable: true },
  });
  return limit;
}
