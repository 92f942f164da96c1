/**
 * The token `acquire()` hands out: a lock held, a semaphore slot, a borrowed
 * capacity token.
 * @module
 */
import { refuseWait, type WaitQueue } from "../_internal/wait-queue.js";

/**
 * Proof that you hold a {@link Lock}, a {@link Semaphore} slot or a
 * {@link CapacityLimiter} token, returned by their `acquire()`. Give it back
 * with `release()`, or let `using` do it at the end of the block.
 *
 * `release()` is idempotent per permit: releasing the same permit twice gives
 * back one slot, not two, so a `finally` and a `using` cannot both release.
 *
 * @example
 * ```ts
 * import { Lock } from "aiokit";
 * const lock = new Lock();
 * {
 *   using _permit = await lock.acquire();
 *   // … only one task at a time runs here …
 * } // released here, even when the block throws
 * ```
 */
export interface Permit extends Disposable {
  /** Gives the permit back (wakes the next waiter). A second call does nothing. */
  release(): void;
  /** True once the permit was released. */
  readonly released: boolean;
}

class OncePermit implements Permit {
  #release: (() => void) | undefined;

  constructor(release: () => void) {
    this.#release = release;
  }

  get released(): boolean {
    return this.#release === undefined;
  }

  release(): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** @internal A permit that calls `release` on its first release only. */
export function createPermit(release: () => void): Permit {
  return new OncePermit(release);
}

/**
 * @internal The one `acquire()` of Lock, Semaphore and CapacityLimiter:
 * refuses a bad or already-aborted signal (even when there is room), takes a
 * permit at once when `take()` finds room, else queues for one. The owner's
 * `take()` finds no room while anyone waits (a released permit goes straight
 * to the first waiter), so taking at once never overtakes a waiter.
 */
export function acquirePermit(
  waiters: WaitQueue<Permit>,
  signal: AbortSignal | undefined,
  take: () => boolean,
  release: () => void,
): Promise<Permit> {
  const refused = refuseWait(signal);
  if (refused !== undefined) return refused;
  return take() ? Promise.resolve(createPermit(release)) : waiters.wait(signal);
}

/** @internal Acquires, runs `fn`, and releases whatever happens. */
export async function runHolding<T>(
  acquire: Promise<Permit>,
  fn: () => T | PromiseLike<T>,
): Promise<Awaited<T>> {
  const permit = await acquire;
  try {
    return await fn();
  } finally {
    permit.release();
  }
}
