/**
 * One fair, cancellable FIFO wait queue (trio's ParkingLot) under every
 * primitive that makes callers wait: locks, semaphores, events, queues, pools.
 *
 * A waiter is a node in a doubly linked list: O(1) to add, to wake, and to
 * remove when its signal aborts. Waking is atomic: `wakeOne` unlinks the
 * waiter and removes its abort listener before resolving it, so a waiter that
 * was granted a value always receives it, even if its signal aborts in the same
 * tick; a waiter whose signal aborted first is already gone and never takes
 * the value. That is the whole of "cancellation is atomic".
 *
 * A waiter may carry `data` (a blocked `Queue.put` carries its item): the
 * waker reads it with `peekData()` and then wakes or rejects that waiter, all
 * in the same synchronous step, so the hand-over cannot be torn by an abort.
 *
 * The owner may pass `onAbandon` to hear of a waiter that left because its
 * signal aborted (after it was rejected): a RateLimiter then re-arms its timer.
 */

import { addAbortListener, removeAbortListener } from "./abort.js";
import { describe } from "./describe.js";

/**
 * The start of every waiting operation: a rejected promise when `signal` is
 * not an AbortSignal (TypeError) or is already aborted (its reason), else
 * undefined. Waits refuse an aborted signal even when they could complete at
 * once, so "aborted" always means "nothing happened".
 */
export function refuseWait(signal: unknown): Promise<never> | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    return Promise.reject(
      new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`),
    );
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  return undefined;
}

// A queued caller. It is its own abort listener (`handleEvent`), so a wait
// allocates no closure beyond the promise's own.
class Waiter<T, D> {
  prev: Waiter<T, D> | undefined = undefined;
  next: Waiter<T, D> | undefined = undefined;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  /** The queue while queued; undefined once woken, rejected or removed. */
  queue: WaitQueue<T, D> | undefined;
  signal: AbortSignal | undefined;
  data: D;

  constructor(queue: WaitQueue<T, D>, signal: AbortSignal | undefined, data: D) {
    this.queue = queue;
    this.signal = signal;
    this.data = data;
  }

  handleEvent(): void {
    const queue = this.queue;
    if (queue === undefined) return;
    const signal = this.signal as AbortSignal;
    queue._remove(this);
    this.reject(signal.reason);
    queue._abandoned();
  }
}

export class WaitQueue<T, D = undefined> {
  #head: Waiter<T, D> | undefined;
  #tail: Waiter<T, D> | undefined;
  #size = 0;
  readonly #onAbandon: (() => void) | undefined;

  /** @param onAbandon - Called after a waiter left the queue because its signal aborted. */
  constructor(onAbandon?: () => void) {
    this.#onAbandon = onAbandon;
  }

  /** Number of waiters queued now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues a waiter and returns the promise it waits on. When `signal` aborts
   * first, the waiter leaves the queue at once and the promise rejects with the
   * signal's reason; an already-aborted signal rejects without queueing.
   * `data` rides along with the waiter (see {@link WaitQueue.peekData}).
   */
  wait(signal?: AbortSignal, data?: D): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiter = new Waiter<T, D>(this, signal, data as D);
    const promise = new Promise<T>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    waiter.prev = this.#tail;
    if (this.#tail === undefined) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#size++;
    if (signal !== undefined) addAbortListener(signal, waiter);
    return promise;
  }

  /** The `data` of the first waiter (undefined when nobody waits: check `size`). */
  peekData(): D | undefined {
    return this.#head?.data;
  }

  /** Wakes the first waiter with `value`; false when nobody waits. */
  wakeOne(value: T): boolean {
    const waiter = this.#shift();
    if (waiter === undefined) return false;
    waiter.resolve(value);
    return true;
  }

  /** Wakes every waiter queued now with `value`; returns how many. */
  wakeAll(value: T): number {
    return this.#drain((waiter) => waiter.resolve(value));
  }

  /** Rejects the first waiter with `reason`; false when nobody waits. */
  rejectOne(reason: unknown): boolean {
    const waiter = this.#shift();
    if (waiter === undefined) return false;
    waiter.reject(reason);
    return true;
  }

  /** Rejects every waiter queued now with `reason`; returns how many. */
  rejectAll(reason: unknown): number {
    return this.#drain((waiter) => waiter.reject(reason));
  }

  /** Takes the first waiter out of the queue (its abort listener gone), or undefined. */
  #shift(): Waiter<T, D> | undefined {
    const waiter = this.#head;
    if (waiter !== undefined) this._remove(waiter);
    return waiter;
  }

  /** Takes out every waiter queued now, oldest first, handing each to `settle`. */
  #drain(settle: (waiter: Waiter<T, D>) => void): number {
    let count = 0;
    for (let waiter = this.#shift(); waiter !== undefined; waiter = this.#shift()) {
      settle(waiter);
      count++;
    }
    return count;
  }

  /** @internal A waiter left on abort (for Waiter only). */
  _abandoned(): void {
    this.#onAbandon?.();
  }

  /** @internal Unlinks `waiter` and drops its abort listener (for Waiter only). */
  _remove(waiter: Waiter<T, D>): void {
    waiter.queue = undefined;
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    waiter.data = undefined as D;
    this.#size--;
    const signal = waiter.signal;
    if (signal !== undefined) {
      waiter.signal = undefined;
      removeAbortListener(signal, waiter);
    }
  }
}
