/**
 * Error classes of the synchronization primitives and queues, by cause. The
 * names are asyncio's, so Python users find them where they expect.
 * @module
 */
import type { ErrorOptions } from "../errors.js";

/**
 * Thrown by {@link Queue.putNowait} when the queue is full (asyncio's
 * `QueueFull`). `put()` never throws it: it waits for room instead.
 *
 * @example
 * ```ts
 * import { Queue, QueueFull } from "aiokit";
 * const queue = new Queue<number>({ maxsize: 1 });
 * queue.putNowait(1);
 * try {
 *   queue.putNowait(2);
 * } catch (error) {
 *   console.log(error instanceof QueueFull); // true
 * }
 * ```
 */
export class QueueFull extends Error {
  override readonly name = "QueueFull";
  /** The queue's `maxsize` when it refused the item. */
  readonly maxsize: number;
  constructor(
    maxsize: number,
    message = `Cannot put into the queue: it is full (maxsize ${maxsize})`,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.maxsize = maxsize;
  }
}

/**
 * Thrown by {@link Queue.getNowait} when the queue is empty (asyncio's
 * `QueueEmpty`). `get()` never throws it: it waits for an item instead.
 *
 * @example
 * ```ts
 * import { Queue, QueueEmpty } from "aiokit";
 * try {
 *   new Queue<number>().getNowait();
 * } catch (error) {
 *   console.log(error instanceof QueueEmpty); // true
 * }
 * ```
 */
export class QueueEmpty extends Error {
  override readonly name = "QueueEmpty";
  constructor(message = "Cannot get from the queue: it is empty", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The queue was shut down (Python 3.13's `QueueShutDown`): `put()` rejects
 * with it at once, and `get()` once the queue is empty (at once after
 * `shutdown({ immediate: true })`, which drops the remaining items).
 *
 * @example
 * ```ts
 * import { Queue, QueueShutDown } from "aiokit";
 * const queue = new Queue<string>();
 * queue.shutdown();
 * await queue.put("late").catch((error) => console.log(error instanceof QueueShutDown)); // true
 * ```
 */
export class QueueShutDown extends Error {
  override readonly name = "QueueShutDown";
  constructor(message = "The queue is shut down", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A {@link Barrier} was aborted or reset while a task waited on it (or is
 * aborted when a task arrives). asyncio's `BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError } from "aiokit";
 * const barrier = new Barrier(2);
 * const waiting = barrier.wait();
 * barrier.abort();
 * await waiting.catch((error) => console.log(error instanceof BrokenBarrierError)); // true
 * ```
 */
export class BrokenBarrierError extends Error {
  override readonly name = "BrokenBarrierError";
  constructor(message = "The barrier is broken", options?: ErrorOptions) {
    super(message, options);
  }
}
