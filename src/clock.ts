/**
 * The one clock all of aiokit's timing goes through, so the virtual clock of
 * `aiokit/testing` can replace it. Times are milliseconds. `now()` is public
 * in `aiokit`; the hooks (`getClock`, `setClock`, `realClock`, `Clock`,
 * `TimerHandle`) in `aiokit/testing`.
 * @module
 */

/** An opaque handle to a scheduled timer. */
export type TimerHandle = unknown;

/**
 * What aiokit needs from a clock. `aiokit/testing`'s `VirtualClock` is the other
 * implementation; you rarely need to write one.
 *
 * @example
 * ```ts
 * import { getClock } from "aiokit/testing";
 * const clock = getClock();
 * const handle = clock.setTimer(() => console.log("tick"), 100);
 * clock.clearTimer(handle);
 * ```
 */
export interface Clock {
  /** Monotonic time in milliseconds. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for one that already fired. */
  clearTimer(handle: TimerHandle): void;
}

// setTimeout overflows above 2^31-1 ms (it then fires at once): split long waits.
const MAX_TIMEOUT = 2_147_483_647;

interface LongTimer {
  id: ReturnType<typeof setTimeout>;
}

/**
 * The real clock: `performance.now()` and the platform's timers (long waits
 * are split, since `setTimeout` overflows above 2³¹−1 ms).
 *
 * @example
 * ```ts
 * import { realClock, setClock } from "aiokit/testing";
 * setClock(realClock); // undo a test's virtual clock by hand
 * ```
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    if (ms <= MAX_TIMEOUT) return setTimeout(callback, Math.max(0, ms));
    const timer: LongTimer = { id: setTimeout(step, MAX_TIMEOUT) };
    let remaining = ms - MAX_TIMEOUT;
    function step(): void {
      if (remaining <= 0) {
        callback();
        return;
      }
      const next = Math.min(remaining, MAX_TIMEOUT);
      remaining -= next;
      timer.id = setTimeout(step, next);
    }
    return timer;
  },
  clearTimer(handle) {
    if (typeof handle === "object" && handle !== null && "id" in handle) {
      clearTimeout((handle as LongTimer).id);
    } else {
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    }
  },
};

let current: Clock = realClock;

/**
 * The clock aiokit uses now (the real one unless a test installed a virtual one).
 *
 * @example
 * ```ts
 * import { getClock } from "aiokit/testing";
 * const started = getClock().now();
 * ```
 */
export function getClock(): Clock {
  return current;
}

/**
 * Replaces aiokit's clock and returns the previous one. Used by
 * `aiokit/testing`; application code should not need it.
 *
 * @example
 * ```ts
 * import { setClock, realClock } from "aiokit/testing";
 * const previous = setClock(realClock);
 * setClock(previous);
 * ```
 */
export function setClock(clock: Clock): Clock {
  const previous = current;
  current = clock;
  return previous;
}

/**
 * The current time on aiokit's clock, in milliseconds (monotonic; not wall-clock
 * time). Deadlines for `timeoutAt()` are on this scale.
 *
 * @example
 * ```ts
 * import { now, timeoutAt } from "aiokit";
 * const deadline = now() + 5_000;
 * await timeoutAt(deadline, (signal) => fetch(url, { signal }));
 * ```
 */
export function now(): number {
  return current.now();
}
