import { expectFunction, expectNumber } from "../_internal/describe.js";
import { WaitQueue } from "../_internal/wait-queue.js";
import type { LockAcquireOptions } from "./lock.js";
import { acquirePermit, createPermit, type Permit, runHolding } from "./permit.js";

/** A snapshot of a {@link CapacityLimiter}, from {@link CapacityLimiter.statistics}. */
export interface CapacityLimiterStatistics {
  /** Tokens held now. */
  readonly borrowed: number;
  /** The limit. */
  readonly totalTokens: number;
  /** Callers waiting in `acquire()`. */
  readonly waiting: number;
}

/**
 * trio's `CapacityLimiter`: a semaphore whose size you can change while it is
 * in use. Think of a sofa with `totalTokens` seats: `acquire()` waits for a
 * free seat (first come, first served), releasing the {@link Permit} stands
 * up. Make the sofa bigger and the people waiting sit down at once; make it
 * smaller and nobody is pushed off, but nobody new sits down until enough
 * people have left.
 *
 * Cancellation: a waiter whose signal aborts leaves the queue at once and
 * borrows nothing; a waiter granted a token keeps it even if its signal aborts
 * in the same tick.
 *
 * Note: unlike trio's, tokens are not tied to a task (JavaScript has no
 * current task): the permit is the proof of borrowing.
 *
 * @example
 * ```ts
 * import { CapacityLimiter } from "aiokit";
 * const limiter = new CapacityLimiter(10);
 * const pages = await Promise.all(urls.map((url) => limiter.run(() => fetch(url))));
 * limiter.totalTokens = 20; // under less load: let more through, now
 * ```
 */
export class CapacityLimiter {
  #total: number;
  #borrowed = 0;
  readonly #waiters = new WaitQueue<Permit>();
  readonly #release = (): void => this.release();
  // Waiters exist only while every token is borrowed, so this never overtakes one.
  readonly #take = (): boolean => {
    if (this.#borrowed >= this.#total) return false;
    this.#borrowed++;
    return true;
  };

  /** @param totalTokens - How many tokens can be borrowed at once (an integer ≥ 1, or `Infinity`). */
  constructor(totalTokens: number) {
    expectNumber("`totalTokens`", totalTokens, { min: 1, integer: true, allowInfinity: true });
    this.#total = totalTokens;
  }

  /**
   * How many tokens can be borrowed at once. Settable: raising it grants
   * tokens to waiters at once; lowering it takes no token back.
   * Setting it to anything but an integer ≥ 1 or `Infinity` throws a `TypeError`.
   */
  get totalTokens(): number {
    return this.#total;
  }

  set totalTokens(value: number) {
    expectNumber("`totalTokens`", value, { min: 1, integer: true, allowInfinity: true });
    this.#total = value;
    this.#grant();
  }

  /** Tokens held now. */
  get borrowed(): number {
    return this.#borrowed;
  }

  /** Tokens free now: `totalTokens - borrowed`, or 0 after `totalTokens` was lowered below `borrowed`. */
  get available(): number {
    return Math.max(0, this.#total - this.#borrowed);
  }

  /**
   * Borrows a token, waiting (FIFO) while none is free. Resolves to a
   * {@link Permit}; release it (or `using` it) to give the token back.
   * Rejects with `signal.reason` if `signal` aborts first.
   */
  acquire(options?: LockAcquireOptions): Promise<Permit> {
    return acquirePermit(this.#waiters, options?.signal, this.#take, this.#release);
  }

  /**
   * Gives a token back (to the first waiter, if a token is free for it).
   * Prefer releasing the {@link Permit}, which cannot release twice.
   * Throws an `Error` when no token is borrowed.
   */
  release(): void {
    if (this.#borrowed === 0) {
      throw new Error("Cannot release a token of the capacity limiter: no token is borrowed");
    }
    this.#borrowed--;
    this.#grant();
  }

  /**
   * Runs `fn` holding a token and gives it back when `fn` settles. `signal`
   * only bounds the wait for the token.
   */
  async run<T>(fn: () => T | PromiseLike<T>, options?: LockAcquireOptions): Promise<Awaited<T>> {
    expectFunction("`fn`", fn);
    return runHolding(this.acquire(options), fn);
  }

  /** A snapshot of the limiter's state. */
  statistics(): CapacityLimiterStatistics {
    return Object.freeze({
      borrowed: this.#borrowed,
      totalTokens: this.#total,
      waiting: this.#waiters.size,
    });
  }

  #grant(): void {
    while (this.#borrowed < this.#total && this.#waiters.size > 0) {
      this.#borrowed++;
      this.#waiters.wakeOne(createPermit(this.#release));
    }
  }
}
