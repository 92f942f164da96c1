import { resolved } from "../_internal/thenable.js";
import { refuseWait, WaitQueue } from "../_internal/wait-queue.js";

/** Options of {@link Event.wait}. */
export interface EventWaitOptions {
  /**
   * Aborting it removes the waiter at once and rejects with the signal's
   * reason. An already-aborted signal rejects at once, even when the event is set.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of an {@link Event}, from {@link Event.statistics}. */
export interface EventStatistics {
  /** Whether the event is set. */
  readonly isSet: boolean;
  /** Callers waiting in `wait()`. */
  readonly waiting: number;
}

/**
 * A flag tasks can wait for (asyncio's `Event`): `wait()` resolves once
 * `set()` is called, and at once while the event is set; `clear()` lowers
 * the flag again. Setting wakes every waiter.
 *
 * Cancellation: a waiter whose signal aborts leaves at once and leaves
 * nothing behind (a million waiters that give up one by one cost nothing
 * afterwards).
 *
 * Note: this is aiokit's `Event`, not the DOM's `Event` class: import it by
 * name (or rename it: `import { Event as AsyncEvent } from "aiokit"`).
 *
 * @example
 * ```ts
 * import { Event } from "aiokit";
 * const ready = new Event();
 * setTimeout(() => ready.set(), 100);
 * await ready.wait({ signal: AbortSignal.timeout(1_000) });
 * ```
 */
export class Event {
  #set = false;
  readonly #waiters = new WaitQueue<void>();

  /** True between `set()` and `clear()`. */
  get isSet(): boolean {
    return this.#set;
  }

  /** Sets the flag and wakes every waiter. Idempotent. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    this.#waiters.wakeAll(undefined);
  }

  /** Lowers the flag: later `wait()` calls wait for the next `set()`. */
  clear(): void {
    this.#set = false;
  }

  /**
   * Resolves when the event is set (at once if it is). Rejects with
   * `signal.reason` if `signal` aborts first.
   */
  wait(options?: EventWaitOptions): Promise<void> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#set) return resolved;
    return this.#waiters.wait(signal);
  }

  /** A snapshot of the event's state. */
  statistics(): EventStatistics {
    return Object.freeze({ isSet: this.#set, waiting: this.#waiters.size });
  }
}
