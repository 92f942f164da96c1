import { expectFunction, expectNumber } from "../_internal/describe.js";
import { WaitQueue } from "../_internal/wait-queue.js";
import type { LockAcquireOptions } from "./lock.js";
import { acquirePermit, createPermit, type Permit, runHolding } from "./permit.js";

/** A snapshot of a {@link Semaphore}, from {@link Semaphore.statistics}. */
export interface SemaphoreStatistics {
  /** Permits free now. */
  readonly value: number;
  /** Callers waiting in `acquire()`. */
  readonly waiting: number;
}

/**
 * A counter of permits (asyncio's `Semaphore`): `acquire()` takes one, waiting
 * in FIFO order while none is free; `release()` gives one back, handing it
 * straight to the first waiter. Use it to let at most `value` tasks into a
 * section at once.
 *
 * Cancellation: a waiter whose signal aborts leaves the queue at once and
 * takes no permit; a waiter granted a permit keeps it even if its signal
 * aborts in the same tick, so permits are never lost (asyncio's Semaphore
 * lost wake-ups to cancelled waiters for years: python/asyncio#270, CPython
 * gh-90155). Granting is a direct hand-off, so a newcomer never overtakes a
 * waiter.
 *
 * @example
 * ```ts
 * import { Semaphore } from "aiokit";
 * const connections = new Semaphore(3);
 * await Promise.all(urls.map((url) => connections.run(() => fetch(url))));
 * ```
 */
export class Semaphore {
  #value: number;
  readonly #waiters = new WaitQueue<Permit>();
  readonly #release = (): void => this.release();
  // Waiters exist only while value is 0, so this never overtakes one.
  readonly #take = (): boolean => {
    if (this.#value <= 0) return false;
    this.#value--;
    return true;
  };

  /** @param value - Permits free at first (an integer ≥ 0; default 1). */
  constructor(value = 1) {
    expectNumber("`value`", value, { integer: true });
    this.#value = value;
  }

  /** Permits free now (asyncio's `_value`). */
  get value(): number {
    return this.#value;
  }

  /** True when no permit is free (`acquire()` would wait). */
  get locked(): boolean {
    return this.#value === 0;
  }

  /**
   * Takes a permit, waiting for one if none is free. Resolves to a
   * {@link Permit}; release it (or `using` it) to give the permit back.
   * Rejects with `signal.reason` if `signal` aborts first.
   */
  acquire(options?: LockAcquireOptions): Promise<Permit> {
    return acquirePermit(this.#waiters, options?.signal, this.#take, this.#release);
  }

  /**
   * Gives a permit back: to the first waiter if there is one, else to the
   * counter. Prefer releasing the {@link Permit}, which cannot release twice.
   */
  release(): void {
    if (this.#waiters.size > 0) this.#waiters.wakeOne(createPermit(this.#release));
    else this.#value++;
  }

  /**
   * Runs `fn` holding a permit and releases it when `fn` settles. `signal`
   * only bounds the wait for the permit.
   */
  async run<T>(fn: () => T | PromiseLike<T>, options?: LockAcquireOptions): Promise<Awaited<T>> {
    expectFunction("`fn`", fn);
    return runHolding(this.acquire(options), fn);
  }

  /** A snapshot of the semaphore's state. */
  statistics(): SemaphoreStatistics {
    return Object.freeze({ value: this.#value, waiting: this.#waiters.size });
  }
}

/**
 * A {@link Semaphore} that refuses to be released more times than it was
 * acquired (asyncio's `BoundedSemaphore`): such a `release()` throws a
 * `RangeError`, catching the bug where a permit is given back twice.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "aiokit";
 * const slots = new BoundedSemaphore(2);
 * try {
 *   slots.release();
 * } catch (error) {
 *   console.log(error instanceof RangeError); // true: nothing was acquired
 * }
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;

  /** @param value - Permits free at first, and the most there can ever be (default 1). */
  constructor(value = 1) {
    super(value);
    this.#bound = value;
  }

  /**
   * Gives a permit back. Throws a `RangeError` when every permit is already
   * free (a release without a matching acquire).
   */
  override release(): void {
    if (this.value >= this.#bound) {
      throw new RangeError(
        `Cannot release the bounded semaphore: it was released more times than acquired (value ${this.value}, initial value ${this.#bound})`,
      );
    }
    super.release();
  }
}
