import { expectFunction } from "../_internal/describe.js";
import { WaitQueue } from "../_internal/wait-queue.js";
import { acquirePermit, createPermit, type Permit, runHolding } from "./permit.js";

/**
 * Options of `acquire()` and `run()` on {@link Lock}, {@link Semaphore},
 * {@link CapacityLimiter} and {@link Condition}.
 */
export interface LockAcquireOptions {
  /**
   * Aborting it while the caller waits removes the caller from the queue at
   * once and rejects with the signal's reason; the caller then holds nothing.
   * An already-aborted signal rejects at once, even when the lock is free.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of a {@link Lock}, from {@link Lock.statistics}. */
export interface LockStatistics {
  /** Whether the lock is held. */
  readonly locked: boolean;
  /** Callers waiting in `acquire()`. */
  readonly waiting: number;
}

/**
 * A mutual-exclusion lock (asyncio's `Lock`): one holder at a time, the others
 * wait in FIFO order. `acquire()` resolves to a {@link Permit}; releasing it
 * hands the lock straight to the first waiter, so a newcomer can never barge
 * ahead of someone already waiting.
 *
 * Cancellation: a waiter whose signal aborts leaves the queue at once and
 * never gets the lock; one that was granted the lock gets it, even if its
 * signal aborts in the same tick (the lock is never lost, and never
 * handed to a caller that gave up).
 *
 * Note: the lock is not owned by a task. Any code can `release()` it, and
 * acquiring it twice from the same task deadlocks, as in asyncio.
 *
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { Lock } from "aiokit";
 * const lock = new Lock();
 * {
 *   using _ = await lock.acquire({ signal });
 *   await writeFile(path, data); // one writer at a time
 * }
 * await lock.run(() => writeFile(path, other)); // the same, as a callback
 * ```
 */
export class Lock {
  #locked = false;
  readonly #waiters = new WaitQueue<Permit>();
  readonly #release = (): void => this.release();
  readonly #take = (): boolean => {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  };

  /** True while someone holds the lock. */
  get locked(): boolean {
    return this.#locked;
  }

  /**
   * Waits until the lock is free and takes it. Resolves to a {@link Permit}
   * whose `release()` (or `using`) gives the lock back.
   * Rejects with `signal.reason` if `signal` aborts first.
   */
  acquire(options?: LockAcquireOptions): Promise<Permit> {
    return acquirePermit(this.#waiters, options?.signal, this.#take, this.#release);
  }

  /**
   * Releases the lock: the first waiter (if any) holds it now. Prefer
   * releasing the permit, which cannot release twice.
   * Throws an `Error` when the lock is not locked.
   */
  release(): void {
    if (!this.#locked) throw new Error("Cannot release the lock: it is not locked");
    if (this.#waiters.size > 0) this.#waiters.wakeOne(createPermit(this.#release));
    else this.#locked = false;
  }

  /**
   * Runs `fn` holding the lock and releases it when `fn` settles, whether it
   * returns or throws. `signal` only bounds the wait for the lock: pass it to
   * `fn` yourself if the work should stop too.
   */
  async run<T>(fn: () => T | PromiseLike<T>, options?: LockAcquireOptions): Promise<Awaited<T>> {
    expectFunction("`fn`", fn);
    return runHolding(this.acquire(options), fn);
  }

  /** A snapshot of the lock's state (trio's `statistics()`). */
  statistics(): LockStatistics {
    return Object.freeze({ locked: this.#locked, waiting: this.#waiters.size });
  }
}
