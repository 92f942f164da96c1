import { addAbortListener, neverAborted, noop, removeAbortListener } from "../_internal/abort.js";
import { expectFunction, expectNumber } from "../_internal/describe.js";
import { Ring } from "../_internal/ring.js";
import { refuseWait } from "../_internal/wait-queue.js";
import { CancelledError } from "../errors.js";

/** Options of one call of a {@link Limit} function. */
export interface LimitOptions {
  /** Aborting it while the call is queued removes it and rejects with the signal's reason; `fn` also gets it. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The function {@link limiter} returns: `limit(fn, { signal }?)` runs `fn` when
 * fewer than `concurrency` calls are running and resolves to its result.
 *
 * @example
 * ```ts
 * import { limiter, type Limit } from "aiokit";
 * const limit: Limit = limiter(4);
 * const user = await limit((signal) => fetchUser(id, { signal }));
 * console.log(limit.activeCount, limit.pendingCount);
 * ```
 */
export interface Limit {
  <R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, options?: LimitOptions): Promise<Awaited<R>>;
  /** Calls running now. */
  readonly activeCount: number;
  /** Calls waiting in the queue now. */
  readonly pendingCount: number;
  /**
   * Most calls running at once. Setting it higher starts queued calls at once
   * (synchronously for the first few hundred in line; calls deeper in a very
   * long queue start within the same turn of the event loop); setting it
   * lower lets running calls finish.
   */
  concurrency: number;
  /**
   * Removes every queued call; each rejects with a {@link CancelledError}.
   * Running calls are not affected. Idempotent.
   */
  clearQueue(): void;
}

type Fn = (signal: AbortSignal) => unknown;

// A queued call that carries a signal: it must be able to reject the moment
// the signal aborts, so it always owns its promise's resolvers.
interface Tracked {
  fn: Fn;
  signal: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  onAbort: (() => void) | undefined;
  /** Aborted or cleared while queued: skip it. */
  removed: boolean;
}

// Parked calls share one gate per group: a pending promise whose opening
// runs each member's reaction, in queue order.
interface Group {
  gate: Promise<void>;
  open: () => void;
  /** Members in queue order (a chunk of the queue: no big array to grow). */
  members: (Fn | Tracked)[];
  /** Members whose reaction has run. */
  taken: number;
  /** Emptied by clearQueue(): members still to run reject. */
  cleared: boolean;
}

const STRIDE = 3; // ready ring slots per call: fn (or Tracked), resolve, reject
const GROUP = 512; // parked calls per gate
const LOW = 512; // keep at least this many calls ready when more are parked

/**
 * The engine behind `limiter()`. Queued calls live in two tiers:
 *
 * - **ready**: the next calls to start, each holding its promise's resolvers,
 *   stored flat in a ring (three slots per call, no object per call);
 * - **parked**: everything behind the first few hundred. A parked call's
 *   promise is `gate.then(onGateOpen)` on a gate shared by its group of 512,
 *   with no resolvers and no closure of its own: about half the memory of a
 *   `new Promise()`, which is what a million queued calls cost.
 *
 * When the ready tier runs low, the head group's gate opens and its members
 * move into the ready tier (or start, when a slot is free), in order. Signal
 * calls keep their own resolvers (they must reject as soon as the signal
 * aborts) but queue in the same order.
 *
 * Why not `_internal/wait-queue.ts`: its waiter is an object plus a promise
 * per call; the parked tier exists to cost less than that, and is what keeps
 * `npm run bench -- limiter` at a third of p-limit's time and memory.
 */
class LimitCore {
  concurrency: number;
  active = 0;
  pending = 0;
  #ready: unknown[] = new Array<unknown>(64 * STRIDE);
  #readyHead = 0; // index of the oldest ready call's first slot
  #readyCount = 0; // ready calls in the ring, removed ones included
  readonly #groups = new Ring<Group>(4); // parked groups, gates closed
  readonly #opening = new Ring<Group>(4); // gates opened, reactions still to run
  #tail: Group | undefined; // the group new parked calls join
  #opened = 0; // parked calls whose gate opened and whose reaction hasn't run yet

  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  readonly #onFulfilled = (value: unknown): unknown => {
    this.active--;
    if (this.pending > 0) this.drain();
    return value;
  };

  readonly #onRejected = (error: unknown): never => {
    this.active--;
    if (this.pending > 0) this.drain();
    throw error;
  };

  call(fn: Fn, options: LimitOptions | undefined): Promise<unknown> {
    if (typeof fn !== "function") {
      try {
        expectFunction("`fn`", fn);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      signal = options.signal;
      const refused = refuseWait(signal);
      if (refused !== undefined) return refused;
    }
    if (this.#opened === 0 && this.#groups.size === 0) {
      if (this.active < this.concurrency && this.#readyCount === 0) {
        this.active++;
        return this.#start(fn, signal ?? neverAborted);
      }
      if (this.#readyCount < LOW) {
        this.pending++;
        return new Promise((resolve, reject) => {
          const entry = signal === undefined ? fn : this.#track(fn, signal, resolve, reject);
          this.#pushReady(entry, resolve, reject);
        });
      }
    }
    return this.#park(fn, signal);
  }

  #park(fn: Fn, signal: AbortSignal | undefined): Promise<unknown> {
    let group = this.#tail;
    if (group === undefined || group.members.length === GROUP) {
      let open = noop;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      group = { gate, open, members: [], taken: 0, cleared: false };
      this.#groups.push(group);
      this.#tail = group;
    }
    this.pending++;
    if (signal === undefined) {
      group.members.push(fn);
      return group.gate.then(this.#onGateOpen);
    }
    const { gate, members } = group;
    return new Promise((resolve, reject) => {
      members.push(this.#track(fn, signal, resolve, reject));
      void gate.then(this.#onGateOpen);
    });
  }

  #track(
    fn: Fn,
    signal: AbortSignal,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ): Tracked {
    const tracked: Tracked = { fn, signal, resolve, reject, onAbort: undefined, removed: false };
    tracked.onAbort = () => {
      tracked.onAbort = undefined;
      tracked.removed = true;
      this.pending--;
      if (this.pending === 0 && this.#groups.size === 0 && this.#opened === 0) {
        this.#resetReady(); // only removed entries left: drop them now
      }
      reject(signal.reason);
    };
    addAbortListener(signal, tracked.onAbort);
    return tracked;
  }

  // A parked call's turn came (its gate opened): start it or make it ready.
  readonly #onGateOpen = (): unknown => {
    this.#opened--;
    const group = this.#opening.peek() as Group;
    const entry = group.members[group.taken] as Fn | Tracked;
    group.members[group.taken] = noop; // don't keep it alive
    if (++group.taken === group.members.length) this.#opening.shift();
    const cleared = group.cleared;
    let result: unknown;
    if (typeof entry !== "function") {
      // Its own promise settles through its resolvers; this reaction's result is dropped.
      if (!entry.removed && !cleared) this.#pushReady(entry, entry.resolve, entry.reject);
    } else if (cleared) {
      result = Promise.reject(clearedError());
    } else if (this.active < this.concurrency && this.#readyCount === 0) {
      this.pending--;
      this.active++;
      result = this.#start(entry, neverAborted);
    } else {
      result = new Promise((resolve, reject) => this.#pushReady(entry, resolve, reject));
    }
    this.drain();
    return result;
  };

  #start(fn: Fn, signal: AbortSignal): Promise<unknown> {
    let result: unknown;
    try {
      result = fn(signal);
    } catch (error) {
      // Release in a microtask, as for an async failure: counts stay exact
      // until the caller can observe the rejection, and a run of synchronous
      // throws can't recurse.
      return Promise.reject(error).then(undefined, this.#onRejected);
    }
    return Promise.resolve(result).then(this.#onFulfilled, this.#onRejected);
  }

  /** Starts ready calls while there is room, and opens gates while the ready tier runs low. */
  drain(): void {
    const ready = this.#ready;
    while (this.active < this.concurrency && this.#readyCount > 0) {
      const head = this.#readyHead;
      let entry = ready[head] as Fn | Tracked;
      const resolve = ready[head + 1] as (value: unknown) => void;
      const reject = ready[head + 2] as (reason: unknown) => void;
      ready[head] = undefined;
      ready[head + 1] = undefined;
      ready[head + 2] = undefined;
      this.#readyHead = head + STRIDE === ready.length ? 0 : head + STRIDE;
      this.#readyCount--;
      let signal = neverAborted;
      if (typeof entry !== "function") {
        if (entry.removed) continue;
        signal = entry.signal;
        if (entry.onAbort !== undefined) removeAbortListener(signal, entry.onAbort);
        entry.onAbort = undefined;
        entry = entry.fn;
      }
      this.pending--;
      this.active++;
      this.#start(entry, signal).then(resolve, reject);
    }
    while (this.#readyCount + this.#opened < LOW && this.#groups.size > 0) this.#openGroup();
  }

  #openGroup(): void {
    const group = this.#groups.shift() as Group;
    if (group === this.#tail) this.#tail = undefined;
    this.#opened += group.members.length;
    this.#opening.push(group);
    group.open();
  }

  clear(): void {
    if (this.pending === 0) return;
    const rejects: ((reason: unknown) => void)[] = [];
    const ready = this.#ready;
    while (this.#readyCount > 0) {
      const head = this.#readyHead;
      const entry = ready[head] as Fn | Tracked;
      const reject = ready[head + 2] as (reason: unknown) => void;
      this.#readyHead = head + STRIDE === ready.length ? 0 : head + STRIDE;
      this.#readyCount--;
      if (typeof entry === "function" || this.#untrack(entry)) rejects.push(reject);
    }
    this.#resetReady();
    // Parked calls: those with resolvers reject now; the others reject when
    // their reaction runs, which opening every gate makes happen next.
    const clearGroup = (group: Group): void => {
      for (let i = group.taken; i < group.members.length; i++) {
        const entry = group.members[i] as Fn | Tracked;
        if (typeof entry !== "function" && this.#untrack(entry)) rejects.push(entry.reject);
      }
      group.cleared = true;
    };
    this.#opening.forEach(clearGroup);
    this.#groups.forEach(clearGroup);
    while (this.#groups.size > 0) this.#openGroup();
    this.pending = 0;
    for (const reject of rejects) reject(clearedError());
  }

  // Takes a tracked call out of play; false when it was already removed.
  #untrack(entry: Tracked): boolean {
    if (entry.removed) return false;
    entry.removed = true;
    if (entry.onAbort !== undefined) removeAbortListener(entry.signal, entry.onAbort);
    entry.onAbort = undefined;
    return true;
  }

  #resetReady(): void {
    this.#ready = new Array<unknown>(64 * STRIDE);
    this.#readyHead = 0;
    this.#readyCount = 0;
  }

  #pushReady(entry: unknown, resolve: unknown, reject: unknown): void {
    let ready = this.#ready;
    if (this.#readyCount * STRIDE === ready.length) ready = this.#growReady();
    let tail = this.#readyHead + this.#readyCount * STRIDE;
    if (tail >= ready.length) tail -= ready.length;
    ready[tail] = entry;
    ready[tail + 1] = resolve;
    ready[tail + 2] = reject;
    this.#readyCount++;
  }

  #growReady(): unknown[] {
    const old = this.#ready;
    const ready = new Array<unknown>(old.length * 2);
    let from = this.#readyHead;
    for (let i = 0; i < old.length; i++) {
      ready[i] = old[from];
      from = from + 1 === old.length ? 0 : from + 1;
    }
    this.#ready = ready;
    this.#readyHead = 0;
    return ready;
  }
}

function clearedError(): CancelledError {
  return new CancelledError("The call was removed from the limiter's queue by clearQueue()");
}

/**
 * Creates a concurrency limiter with p-limit's shape: `limit(fn)` runs `fn`
 * when fewer than `concurrency` calls are running, else queues it (first
 * come, first served), and resolves to what `fn` returns. Built for the
 * million-call case: several times faster than p-limit, at a fraction of its
 * memory.
 *
 * `activeCount` and `pendingCount` are exact at every point (a call counts as
 * active until its promise has settled, before the caller's `await` resumes).
 * Setting `concurrency` higher starts queued calls at once. A call's
 * `{ signal }` removes it from the queue when it aborts (it rejects with the
 * signal's reason) and is passed to `fn` once it runs.
 *
 * Errors: a call's error rejects that call only; other calls go on.
 *
 * Note: unlike p-limit, `clearQueue()` rejects the removed calls with a
 * {@link CancelledError} instead of leaving their promises pending forever.
 *
 * @example
 * ```ts
 * import { limiter } from "aiokit";
 * const limit = limiter(8);
 * const pages = await Promise.all(urls.map((url) => limit((signal) => fetch(url, { signal }))));
 * limit.concurrency = 16; // starts up to 8 more queued calls now
 * ```
 */
export function limiter(concurrency: number): Limit {
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true, allowInfinity: true });
  const core = new LimitCore(concurrency);
  const limit = ((fn: (signal: AbortSignal) => unknown, options?: LimitOptions) =>
    core.call(fn, options)) as Limit;
  Object.defineProperties(limit, {
    activeCount: { get: () => core.active, enumerable: true },
    pendingCount: { get: () => core.pending, enumerable: true },
    concurrency: {
      get: () => core.concurrency,
      set: (value: unknown) => {
        expectNumber("`concurrency`", value, { min: 1, integer: true, allowInfinity: true });
        core.concurrency = value;
        core.drain();
      },
      enumerable: true,
    },
    clearQueue: { value: () => core.clear(), enumerable: true },
  });
  return limit;
}
