import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import { WaitQueue } from "../_internal/wait-queue.js";
import { Lock, type LockAcquireOptions, type LockStatistics } from "./lock.js";
import type { Permit } from "./permit.js";

/** Options of {@link Condition.wait} and {@link Condition.waitFor}. */
export interface ConditionWaitOptions {
  /**
   * Aborting it stops the wait: the lock is re-acquired first (as asyncio
   * does), then the call rejects with the signal's reason.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of a {@link Condition}, from {@link Condition.statistics}. */
export interface ConditionStatistics {
  /** Callers waiting in `wait()` for a notification. */
  readonly waiting: number;
  /** The underlying lock's statistics. */
  readonly lock: LockStatistics;
}

/**
 * A condition variable (asyncio's `Condition`): tasks holding the lock wait
 * for a notification, and `notify()` wakes them in FIFO order. `wait()`
 * releases the lock while it waits and holds it again when it returns.
 *
 * Cancellation: when the signal aborts during `wait()`, the waiter leaves the
 * queue, waits to hold the lock again, and only then rejects with the
 * signal's reason, so the code after it (a `finally`, a `using`) always runs
 * with the lock held. A notification is never lost: a waiter notified in the
 * same tick its signal aborts returns normally.
 *
 * @example
 * ```ts
 * import { Condition } from "aiokit";
 * const changed = new Condition();
 * const items: string[] = [];
 * // consumer
 * {
 *   using _ = await changed.acquire();
 *   await changed.waitFor(() => items.length > 0, { signal });
 *   console.log(items.shift());
 * }
 * // producer
 * {
 *   using _ = await changed.acquire();
 *   items.push("job");
 *   changed.notify();
 * }
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #waiters = new WaitQueue<void>();

  /** @param lock - The lock to use (default: a new {@link Lock}). */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`Expected \`lock\` to be a Lock, got ${describe(lock)}`);
    }
    this.#lock = lock ?? new Lock();
  }

  /** True while the underlying lock is held. */
  get locked(): boolean {
    return this.#lock.locked;
  }

  /** Acquires the underlying lock (see {@link Lock.acquire}). */
  acquire(options?: LockAcquireOptions): Promise<Permit> {
    return this.#lock.acquire(options);
  }

  /** Releases the underlying lock (see {@link Lock.release}). */
  release(): void {
    this.#lock.release();
  }

  /**
   * Releases the lock, waits for a `notify()`, then re-acquires the lock
   * before returning. The caller must hold the lock: otherwise rejects with an
   * `Error` at once. If `signal` aborts, the lock is re-acquired anyway and the
   * call then rejects with `signal.reason` (an already-aborted signal rejects
   * at once, the lock still held).
   */
  async wait(options?: ConditionWaitOptions): Promise<void> {
    const signal = options?.signal;
    expectSignal(signal);
    if (!this.#lock.locked) {
      throw new Error("Cannot wait on the condition: its lock is not acquired");
    }
    if (signal?.aborted) throw signal.reason;
    const notified = this.#waiters.wait(signal);
    this.#lock.release();
    let aborted = false;
    let reason: unknown;
    try {
      await notified;
    } catch (error) {
      aborted = true;
      reason = error;
    }
    // Must hold the lock again even when aborted (asyncio does the same): the
    // caller's cleanup runs with the lock held and releases it.
    await this.#lock.acquire();
    if (aborted) throw reason;
  }

  /**
   * Waits until `predicate()` returns a truthy value, and returns that value.
   * `predicate` is called holding the lock: first at once, then after each
   * notification. Errors from `predicate` reject the call (the lock still
   * held). Cancellation as for {@link Condition.wait}.
   */
  async waitFor<T>(predicate: () => T, options?: ConditionWaitOptions): Promise<T> {
    expectFunction("`predicate`", predicate);
    const signal = options?.signal;
    expectSignal(signal);
    if (!this.#lock.locked) {
      throw new Error("Cannot wait on the condition: its lock is not acquired");
    }
    if (signal?.aborted) throw signal.reason;
    let result = predicate();
    while (!result) {
      await this.wait(options);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters (default 1), first come first served. The caller
   * must hold the lock: otherwise throws an `Error`. The woken waiters return
   * from `wait()` once they hold the lock in turn.
   */
  notify(n = 1): void {
    expectNumber("`n`", n, { integer: true, allowInfinity: true });
    if (!this.#lock.locked) {
      throw new Error("Cannot notify on the condition: its lock is not acquired");
    }
    for (let i = 0; i < n && this.#waiters.wakeOne(undefined); i++);
  }

  /** Wakes every waiter (see {@link Condition.notify}). */
  notifyAll(): void {
    this.notify(Number.POSITIVE_INFINITY);
  }

  /** A snapshot of the condition's state. */
  statistics(): ConditionStatistics {
    return Object.freeze({ waiting: this.#waiters.size, lock: this.#lock.statistics() });
  }
}
