import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import { Heap } from "../_internal/heap.js";
import { Ring } from "../_internal/ring.js";
import { resolved } from "../_internal/thenable.js";
import { refuseWait, WaitQueue } from "../_internal/wait-queue.js";
import { QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";

/** Options of {@link Queue} and {@link LifoQueue}. */
export interface QueueOptions {
  /**
   * Most items the queue holds; `put()` waits while it is full. An integer
   * ≥ 1, or `Infinity` / `0` / omitted for an unbounded queue (0 as in asyncio).
   */
  readonly maxsize?: number | undefined;
}

/** Options of {@link PriorityQueue}. */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /**
   * Orders items: negative when `a` comes out before `b`. Default: natural
   * order for numbers, bigints and strings, and arrays of those compared
   * element by element like Python tuples (`[priority, item]`); other items
   * throw a `TypeError`, so pass `compare` for them.
   *
   * Warning: `compare` must be a consistent total order and should not throw;
   * an item whose comparison throws is refused (put rejects with the error).
   */
  readonly compare?: ((a: T, b: T) => number) | undefined;
}

/** Options of the waiting queue operations: `put`, `get`, `join`, `iterate`. */
export interface QueueWaitOptions {
  /**
   * Aborting it while the caller waits removes the caller at once and rejects
   * with the signal's reason; the queue is left as if the call never happened
   * (a put's item is not added, a get takes no item). An already-aborted signal
   * rejects at once, even when the operation could complete.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Queue.shutdown}. */
export interface QueueShutdownOptions {
  /** Also drop every item still queued (and mark them done for `join()`). Default false. */
  readonly immediate?: boolean | undefined;
}

/** A snapshot of a queue, from {@link Queue.statistics}. */
export interface QueueStatistics {
  /** Items queued now. */
  readonly size: number;
  /** The capacity (`Infinity` when unbounded). */
  readonly maxsize: number;
  /** Items put and not yet marked done with `taskDone()`. */
  readonly unfinishedTasks: number;
  /** Callers waiting in `get()`. */
  readonly waitingGetters: number;
  /** Callers waiting in `put()` (their items are not counted in `size`). */
  readonly waitingPutters: number;
  /** Callers waiting in `join()`. */
  readonly waitingJoiners: number;
  /** Whether `shutdown()` was called. */
  readonly shutDown: boolean;
}

/** @internal How a queue stores its items: FIFO ring, LIFO stack or heap. */
export interface QueueStore<T> {
  readonly size: number;
  push(item: T): void;
  take(): T;
  clear(): void;
}

/**
 * A first-in first-out queue between tasks (asyncio's `Queue`). `put()` waits
 * while the queue is full, which is the backpressure that keeps a fast
 * producer from running ahead of a slow consumer; `get()` waits while it is
 * empty. Waiting callers are served in FIFO order, and an item is handed
 * straight to a waiting getter (or from a waiting putter into the queue) in
 * one step, so no item is ever lost or duplicated.
 *
 * Every operation is O(1) (a growable ring buffer). `taskDone()` / `join()`
 * count work as asyncio does; `shutdown()` works as in Python 3.13; and
 * `for await (const item of queue)` yields items until the queue is shut down
 * and drained.
 *
 * Cancellation: a `put()` or `get()` whose signal aborts while waiting leaves
 * the queue unchanged: the putter's item is not added, the getter takes no
 * item. One that completed keeps its result even if its signal aborts in the
 * same tick.
 *
 * Note: `get()` resolves a promise with the item, so an item that is itself a
 * promise (or thenable) is awaited on the way out, as any promise resolution
 * does. Wrap such items (`{ promise }`) to pass them through as they are.
 *
 * @example
 * ```ts
 * import { Queue, taskGroup } from "aiokit";
 * const queue = new Queue<string>({ maxsize: 100 });
 * await taskGroup(async (tg) => {
 *   tg.spawn(async (signal) => {
 *     for await (const url of queue.iterate({ signal })) {
 *       await crawl(url);
 *       queue.taskDone();
 *     }
 *   });
 *   for (const url of urls) await queue.put(url); // waits while 100 are queued
 *   await queue.join(); // every url crawled
 *   queue.shutdown(); // the consumer's loop ends
 * });
 * ```
 */
export class Queue<T> implements AsyncIterable<T> {
  readonly #maxsize: number;
  readonly #store: QueueStore<T>;
  readonly #getters = new WaitQueue<T>();
  // A waiting putter carries its item; it enters the queue when room is made.
  readonly #putters = new WaitQueue<void, T>();
  readonly #joiners = new WaitQueue<void>();
  #unfinished = 0;
  #shutDown = false;

  /** @param options - `maxsize` (default unbounded). */
  constructor(options: QueueOptions = {}) {
    const maxsize = options.maxsize ?? 0;
    expectNumber("`maxsize`", maxsize, { integer: true, allowInfinity: true });
    this.#maxsize = maxsize === 0 ? Number.POSITIVE_INFINITY : maxsize;
    this.#store = this._createStore(options);
  }

  /** @internal The storage, chosen by the subclass (called once, from the constructor). */
  protected _createStore(_options: QueueOptions): QueueStore<T> {
    return new RingStore<T>();
  }

  /** Items in the queue now. */
  get size(): number {
    return this.#store.size;
  }

  /** The capacity: `Infinity` for an unbounded queue. */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** True when the queue holds no item. */
  get empty(): boolean {
    return this.#store.size === 0;
  }

  /** True when the queue holds `maxsize` items (`put()` would wait). Never for an unbounded queue. */
  get full(): boolean {
    return this.#store.size >= this.#maxsize;
  }

  /**
   * Adds `item`, waiting while the queue is full. Rejects with
   * {@link QueueShutDown} if the queue is (or gets) shut down before the item
   * is in, and with `signal.reason` if `signal` aborts first; either way the
   * item was not added.
   */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#shutDown)
      return Promise.reject(new QueueShutDown("Cannot put into the queue: it is shut down"));
    try {
      if (this.#offer(item)) return resolved;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#putters.wait(signal, item);
  }

  /**
   * Adds `item` now. Throws {@link QueueFull} when the queue is full and
   * {@link QueueShutDown} when it is shut down.
   */
  putNowait(item: T): void {
    if (this.#shutDown) throw new QueueShutDown("Cannot put into the queue: it is shut down");
    if (!this.#offer(item)) throw new QueueFull(this.#maxsize);
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty.
   * Rejects with {@link QueueShutDown} once the queue is shut down and empty,
   * and with `signal.reason` if `signal` aborts first (taking no item).
   */
  get(options?: QueueWaitOptions): Promise<T> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#store.size > 0) return Promise.resolve(this.#take());
    if (this.#shutDown)
      return Promise.reject(
        new QueueShutDown("Cannot get from the queue: it is shut down and empty"),
      );
    return this.#getters.wait(signal);
  }

  /**
   * Removes and returns the next item now. Throws {@link QueueEmpty} when the
   * queue is empty, {@link QueueShutDown} when it is also shut down.
   */
  getNowait(): T {
    if (this.#store.size > 0) return this.#take();
    if (this.#shutDown)
      throw new QueueShutDown("Cannot get from the queue: it is shut down and empty");
    throw new QueueEmpty();
  }

  /**
   * Marks one item taken with `get()` as processed; when every item put so far
   * is, `join()` callers wake. Throws a `RangeError` when called more times than
   * items were put.
   */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new RangeError(
        "Cannot mark a task done: taskDone() was called more times than items were put in the queue",
      );
    }
    if (--this.#unfinished === 0) this.#joiners.wakeAll(undefined);
  }

  /**
   * Waits until every item put in the queue was marked done with `taskDone()`
   * (at once when none is pending). Rejects with `signal.reason` if `signal`
   * aborts first.
   */
  join(options?: QueueWaitOptions): Promise<void> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#unfinished === 0) return resolved;
    return this.#joiners.wait(signal);
  }

  /**
   * Shuts the queue down, as Python 3.13: `put()` rejects with
   * {@link QueueShutDown} from now on (waiting putters at once, their items
   * not added), and `get()` does once the queue is empty (waiting getters at
   * once). With `immediate: true` the remaining items are dropped and counted
   * as done, which may release `join()`. Idempotent; `shutdown({ immediate: true })`
   * after a plain `shutdown()` still drops the items.
   */
  shutdown(options: QueueShutdownOptions = {}): void {
    this.#shutDown = true;
    if (options.immediate === true) {
      const dropped = this.#store.size;
      this.#store.clear();
      this.#unfinished = Math.max(0, this.#unfinished - dropped);
      if (this.#unfinished === 0) this.#joiners.wakeAll(undefined);
    }
    if (this.#getters.size > 0) {
      this.#getters.rejectAll(
        new QueueShutDown("Cannot get from the queue: it is shut down and empty"),
      );
    }
    if (this.#putters.size > 0) {
      this.#putters.rejectAll(new QueueShutDown("Cannot put into the queue: it is shut down"));
    }
  }

  /**
   * Yields items as they come (each one a `get()`), until the queue is shut
   * down and drained. Aborting `signal` ends the iteration with a rejection
   * (the signal's reason) without taking an item.
   *
   * Note: it does not call `taskDone()` for you; call it in the loop body if
   * anyone uses `join()`.
   */
  async *iterate(options?: QueueWaitOptions): AsyncGenerator<T, void, undefined> {
    expectSignal(options?.signal);
    for (;;) {
      let item: T;
      try {
        item = await this.get(options);
      } catch (error) {
        if (error instanceof QueueShutDown && this.#shutDown) return;
        throw error;
      }
      yield item;
    }
  }

  /** `for await (const item of queue)`: {@link Queue.iterate} without a signal. */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.iterate();
  }

  /** A snapshot of the queue's state. */
  statistics(): QueueStatistics {
    return Object.freeze({
      size: this.#store.size,
      maxsize: this.#maxsize,
      unfinishedTasks: this.#unfinished,
      waitingGetters: this.#getters.size,
      waitingPutters: this.#putters.size,
      waitingJoiners: this.#joiners.size,
      shutDown: this.#shutDown,
    });
  }

  // Puts `item` in if there is room (straight into a waiting getter's hands
  // when there is one: getters wait only while the store is empty).
  #offer(item: T): boolean {
    if (this.#getters.size > 0) {
      this.#unfinished++;
      this.#getters.wakeOne(item);
      return true;
    }
    if (this.#store.size >= this.#maxsize) return false;
    this.#store.push(item);
    this.#unfinished++;
    return true;
  }

  // Takes the next item, then lets the first waiting putter's item in, in the
  // same step: putters wait only while the store is full.
  #take(): T {
    const item = this.#store.take();
    while (this.#putters.size > 0 && this.#store.size < this.#maxsize) {
      try {
        this.#store.push(this.#putters.peekData() as T);
      } catch (error) {
        this.#putters.rejectOne(error); // a PriorityQueue's compare refused it
        continue;
      }
      this.#unfinished++;
      this.#putters.wakeOne(undefined);
    }
    return item;
  }
}

/**
 * A last-in first-out queue (asyncio's `LifoQueue`): `get()` returns the item
 * put most recently. Same API and guarantees as {@link Queue}; O(1).
 *
 * @example
 * ```ts
 * import { LifoQueue } from "aiokit";
 * const stack = new LifoQueue<number>();
 * stack.putNowait(1);
 * stack.putNowait(2);
 * await stack.get(); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  /** @internal */
  protected override _createStore(): QueueStore<T> {
    return new Stack<T>();
  }
}

/**
 * A queue that returns the smallest item first (asyncio's `PriorityQueue`), a
 * binary heap: O(log n) `put` and `get`. Stable: equal items come out in the
 * order they were put. Same API and guarantees as {@link Queue}.
 *
 * By default items are ordered naturally (numbers, bigints, strings) and
 * arrays element by element like Python tuples, so `[priority, payload]`
 * pairs work as in Python; for anything else pass `compare`.
 *
 * @example
 * ```ts
 * import { PriorityQueue } from "aiokit";
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "later"]);
 * jobs.putNowait([1, "first"]);
 * await jobs.get(); // [1, "first"]
 * const byDeadline = new PriorityQueue<Job>({ compare: (a, b) => a.deadline - b.deadline });
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  /** @param options - `maxsize` (default unbounded) and `compare` (default natural order). */
  constructor(options: PriorityQueueOptions<T> = {}) {
    super(options);
  }

  /** @internal */
  protected override _createStore(options: PriorityQueueOptions<T>): QueueStore<T> {
    const compare = options.compare ?? naturalOrder;
    if (typeof compare !== "function") {
      throw new TypeError(`Expected \`compare\` to be a function, got ${describe(compare)}`);
    }
    return new HeapStore<T>(compare);
  }
}

/** A FIFO queue's items: the core's ring buffer, taken from the front. */
class RingStore<T> extends Ring<T> implements QueueStore<T> {
  take(): T {
    return this.shift() as T;
  }
}

class Stack<T> implements QueueStore<T> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  take(): T {
    return this.#items.pop() as T;
  }

  clear(): void {
    this.#items = [];
  }
}

class HeapStore<T> implements QueueStore<T> {
  readonly #heap: Heap<T>;
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
    this.#heap = new Heap(compare);
  }

  get size(): number {
    return this.#heap.size;
  }

  push(item: T): void {
    // Compare with the head (or itself) first: a compare that throws then
    // refuses the item before the heap is touched.
    this.#compare(item, this.#heap.size > 0 ? (this.#heap.peek() as T) : item);
    this.#heap.push(item);
  }

  take(): T {
    return this.#heap.pop() as T;
  }

  clear(): void {
    this.#heap.clear();
  }
}

/** @internal Natural order: numbers/bigints, strings, and arrays like Python tuples. */
export function naturalOrder(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  const numeric = (ta === "number" || ta === "bigint") && (tb === "number" || tb === "bigint");
  if (numeric || (ta === "string" && tb === "string")) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = naturalOrder(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TypeError(
    `Cannot order ${describe(a)} and ${describe(b)} in a PriorityQueue: pass a \`compare\` function`,
  );
}
