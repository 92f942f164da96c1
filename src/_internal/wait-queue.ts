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
 */

interface Waiter<T> {
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** False once woken, rejected or removed. */
  queued: boolean;
}

export class WaitQueue<T> {
  #head: Waiter<T> | undefined;
  #tail: Waiter<T> | undefined;
  #size = 0;

  /** Number of waiters queued now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues a waiter and returns the promise it waits on. When `signal` aborts
   * first, the waiter leaves the queue at once and the promise rejects with the
   * signal's reason; an already-aborted signal rejects without queueing.
   */
  wait(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        prev: this.#tail,
        next: undefined,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        queued: true,
      };
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.#size++;
      if (signal !== undefined) {
        waiter.onAbort = () => {
          if (!waiter.queued) return;
          this.#unlink(waiter);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
    });
  }

  /** Wakes the first waiter with `value`; false when nobody waits. */
  wakeOne(value: T): boolean {
    const waiter = this.#head;
    if (waiter === undefined) return false;
    this.#unlink(waiter);
    waiter.resolve(value);
    return true;
  }

  /** Wakes every waiter queued now with `value`; returns how many. */
  wakeAll(value: T): number {
    let count = 0;
    while (this.wakeOne(value)) count++;
    return count;
  }

  /** Rejects every waiter queued now with `reason`; returns how many. */
  rejectAll(reason: unknown): number {
    let count = 0;
    for (let waiter = this.#head; waiter !== undefined; waiter = this.#head) {
      this.#unlink(waiter);
      waiter.reject(reason);
      count++;
    }
    return count;
  }

  #unlink(waiter: Waiter<T>): void {
    waiter.queued = false;
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#size--;
    if (waiter.onAbort !== undefined) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.onAbort = undefined;
    }
  }
}
