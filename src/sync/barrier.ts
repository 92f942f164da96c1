import { expectNumber } from "../_internal/describe.js";
import { refuseWait, WaitQueue } from "../_internal/wait-queue.js";
import { BrokenBarrierError } from "./errors.js";

/** Options of {@link Barrier.wait}. */
export interface BarrierWaitOptions {
  /**
   * Aborting it while waiting takes the caller out of the barrier (the others
   * keep waiting for `parties` arrivals; the barrier is not broken) and rejects
   * with the signal's reason.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of a {@link Barrier}, from {@link Barrier.statistics}. */
export interface BarrierStatistics {
  /** Arrivals needed to pass. */
  readonly parties: number;
  /** Callers waiting now. */
  readonly waiting: number;
  /** Whether the barrier is broken. */
  readonly broken: boolean;
}

/**
 * A meeting point for a fixed number of tasks (asyncio's `Barrier`): each
 * `wait()` blocks until `parties` tasks are waiting, then all pass at once and
 * the barrier is ready for the next round. `wait()` resolves to the arrival
 * index, 0 to `parties - 1` (the last arrival gets `parties - 1`), handy to
 * pick one task for a once-per-round job.
 *
 * `abort()` breaks the barrier: waiters and later arrivals reject with
 * {@link BrokenBarrierError} until `reset()`. `reset()` rejects the current
 * waiters with it too, and makes the barrier usable again.
 *
 * Cancellation: a waiter whose signal aborts leaves the round (it no longer
 * counts towards `parties`) and rejects with the signal's reason; the
 * barrier is not broken. Once a round passes, every waiter of that round gets
 * its index, even if its signal aborts in the same tick.
 *
 * @example
 * ```ts
 * import { Barrier, taskGroup } from "aiokit";
 * const barrier = new Barrier(3);
 * await taskGroup((tg) => {
 *   for (let i = 0; i < 3; i++) {
 *     tg.spawn(async (signal) => {
 *       await prepare(i);
 *       const index = await barrier.wait({ signal }); // all three are prepared here
 *       if (index === 0) console.log("all ready");
 *     });
 *   }
 * });
 * ```
 */
export class Barrier {
  readonly #parties: number;
  readonly #waiters = new WaitQueue<number>();
  #broken = false;

  /** @param parties - How many tasks must arrive for all to pass (an integer ≥ 1). */
  constructor(parties: number) {
    expectNumber("`parties`", parties, { min: 1, integer: true });
    this.#parties = parties;
  }

  /** Arrivals needed to pass. */
  get parties(): number {
    return this.#parties;
  }

  /** Tasks waiting now (asyncio's `n_waiting`). */
  get nWaiting(): number {
    return this.#waiters.size;
  }

  /** True after `abort()`, until `reset()`. */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Waits until `parties` tasks wait, then resolves to this caller's arrival
   * index. Rejects with {@link BrokenBarrierError} when the barrier is or gets
   * broken or reset, and with `signal.reason` if `signal` aborts first.
   */
  wait(options?: BarrierWaitOptions): Promise<number> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#broken) {
      return Promise.reject(new BrokenBarrierError("Cannot wait on the barrier: it is broken"));
    }
    if (this.#waiters.size + 1 < this.#parties) return this.#waiters.wait(signal);
    // The last arrival lets the round through: indices in arrival order.
    let index = 0;
    while (this.#waiters.wakeOne(index)) index++;
    return Promise.resolve(index);
  }

  /**
   * Breaks the barrier: every waiter and every later `wait()` rejects with
   * {@link BrokenBarrierError} until `reset()`. Idempotent.
   */
  abort(): void {
    this.#broken = true;
    this.#waiters.rejectAll(new BrokenBarrierError("The barrier was aborted"));
  }

  /**
   * Returns the barrier to its empty, unbroken state. Tasks waiting now reject
   * with {@link BrokenBarrierError}.
   */
  reset(): void {
    this.#broken = false;
    this.#waiters.rejectAll(new BrokenBarrierError("The barrier was reset"));
  }

  /** A snapshot of the barrier's state. */
  statistics(): BarrierStatistics {
    return Object.freeze({
      parties: this.#parties,
      waiting: this.#waiters.size,
      broken: this.#broken,
    });
  }
}
