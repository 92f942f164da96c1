import { Heap } from "../_internal/heap.js";
import { type Clock, setClock, type TimerHandle } from "../clock.js";

interface VirtualTimer {
  readonly time: number;
  readonly callback: () => void;
  cancelled: boolean;
}

// Captured once, so tests that stub timers cannot break the clock's own turns.
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate: ((callback: () => void) => unknown) | undefined = (
  globalThis as { setImmediate?: (callback: () => void) => unknown }
).setImmediate;

/**
 * Resolves after one turn of the real event loop, by which time every pending
 * microtask (and everything they queued in turn) has run. In tests under the
 * virtual clock this means "every task has run until it waits on a timer".
 *
 * @example
 * ```ts
 * import { waitIdle } from "aiokit/testing";
 * let ran = false;
 * void Promise.resolve().then(() => { ran = true; });
 * await waitIdle();
 * console.log(ran); // true
 * ```
 */
export function waitIdle(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (realSetImmediate !== undefined) realSetImmediate(resolve);
    else realSetTimeout(resolve, 0);
  });
}

/**
 * A clock whose time moves only when the test says so (trio's `MockClock`,
 * Effect's `TestClock`). Timers fire in time order, and after each one every
 * task gets to run before the next fires, so a 30-second timeout is tested in
 * microseconds and always the same way.
 *
 * @example
 * ```ts
 * import { sleep } from "aiokit";
 * import { VirtualClock } from "aiokit/testing";
 * const clock = new VirtualClock();
 * using _ = clock.install();
 * const slept = sleep(30_000);
 * await clock.advance(30_000);
 * await slept; // resolved at once, in virtual time
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #pending = 0;
  readonly #timers = new Heap<VirtualTimer>((a, b) => a.time - b.time);

  /** @param start - The time `now()` reports at first (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The current virtual time, in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at `now() + ms` (used by aiokit's timing functions). */
  setTimer(callback: () => void, ms: number): TimerHandle {
    // The real clock never fires an infinite wait; neither may a jump to Infinity.
    if (ms === Number.POSITIVE_INFINITY) return { time: ms, callback, cancelled: true };
    // `ms > 0` is false for NaN too: a NaN time would sit at the top of the heap,
    // never due, and block every later timer (setTimeout takes NaN as 0).
    const timer: VirtualTimer = { time: this.#now + (ms > 0 ? ms : 0), callback, cancelled: false };
    this.#timers.push(timer);
    this.#pending++;
    return timer;
  }

  /** Cancels a timer set with {@link VirtualClock.setTimer}. */
  clearTimer(handle: TimerHandle): void {
    const timer = handle as VirtualTimer;
    if (timer.cancelled) return;
    timer.cancelled = true;
    this.#pending--;
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#pending;
  }

  /** Time of the earliest pending timer, or undefined when there is none. */
  get nextTimerAt(): number | undefined {
    return this.#peek()?.time;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order,
   * and letting all tasks run after each one (so timers they set within the
   * window fire too).
   */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `time` (see {@link VirtualClock.advance}). */
  async advanceTo(time: number): Promise<void> {
    if (typeof time !== "number" || Number.isNaN(time)) {
      throw new TypeError(`Expected a time to advance to, got ${String(time)}`);
    }
    if (time < this.#now) {
      throw new RangeError(`Cannot move the virtual clock back from ${this.#now} to ${time}`);
    }
    await waitIdle();
    for (
      let timer = this.#peek();
      timer !== undefined && timer.time <= time;
      timer = this.#peek()
    ) {
      this.#fire(timer);
      await waitIdle();
    }
    if (time > this.#now) this.#now = time;
    await waitIdle();
  }

  /** Jumps to the next timer and fires it (and any others due then); false when none is pending. */
  async next(): Promise<boolean> {
    await waitIdle();
    const timer = this.#peek();
    if (timer === undefined) return false;
    await this.advanceTo(timer.time);
    return true;
  }

  /** Fires timers until none is left (at most `limit`, to stop a runaway loop). */
  async runAll(limit = 100_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      if (!(await this.next())) return;
    }
    throw new Error(`Virtual clock still has timers after ${limit} steps: a timer loop?`);
  }

  /**
   * Makes this clock aiokit's clock until the returned handle is disposed
   * (`using _ = clock.install()`), when the previous clock comes back.
   */
  install(): Disposable & { uninstall(): void } {
    const previous = setClock(this);
    let installed = true;
    const uninstall = (): void => {
      if (!installed) return;
      installed = false;
      setClock(previous);
    };
    return { uninstall, [Symbol.dispose]: uninstall };
  }

  #peek(): VirtualTimer | undefined {
    let timer = this.#timers.peek();
    while (timer?.cancelled) {
      this.#timers.pop();
      timer = this.#timers.peek();
    }
    return timer;
  }

  #fire(timer: VirtualTimer): void {
    this.#timers.pop();
    timer.cancelled = true;
    this.#pending--;
    if (timer.time > this.#now) this.#now = timer.time;
    timer.callback();
  }
}

/** Options of {@link withVirtualClock}. */
export interface VirtualClockOptions {
  /** Virtual time at the start, in ms (default 0). */
  readonly start?: number;
  /**
   * When every task is waiting on a timer, jump straight to the next one
   * (trio's autojump). Don't combine with real I/O: while a socket is busy the
   * clock would jump anyway. Default false.
   */
  readonly autoAdvance?: boolean;
}

/**
 * Runs `fn` with a {@link VirtualClock} installed as aiokit's clock, and puts the
 * real clock back afterwards, whatever happens.
 *
 * @example
 * ```ts
 * import { timeout, sleep, TimeoutError } from "aiokit";
 * import { withVirtualClock } from "aiokit/testing";
 * await withVirtualClock(async (clock) => {
 *   const result = timeout(30_000, (signal) => sleep(60_000, { signal }));
 *   // handle the rejection before time moves: it happens during advance()
 *   const outcome = result.catch((error) => error instanceof TimeoutError);
 *   await clock.advance(30_000);
 *   console.log(await outcome); // true
 * });
 * // with autoAdvance, idle time passes by itself:
 * await withVirtualClock(() => sleep(60_000), { autoAdvance: true });
 * ```
 */
export async function withVirtualClock<T>(
  fn: (clock: VirtualClock) => T | PromiseLike<T>,
  options: VirtualClockOptions = {},
): Promise<T> {
  const clock = new VirtualClock(options.start ?? 0);
  const installed = clock.install();
  try {
    const result = Promise.resolve().then(() => fn(clock));
    if (options.autoAdvance === true) await autoAdvance(clock, result);
    return await result;
  } finally {
    installed.uninstall();
  }
}

async function autoAdvance(clock: VirtualClock, result: Promise<unknown>): Promise<void> {
  let done = false;
  const finish = (): void => {
    done = true;
  };
  result.then(finish, finish);
  while (!done) {
    await waitIdle();
    if (done) return;
    const next = clock.nextTimerAt;
    if (next === undefined) {
      // Nothing scheduled: the test waits on something real; don't spin.
      await new Promise<void>((resolve) => realSetTimeout(resolve, 1));
    } else {
      await clock.advanceTo(next);
    }
  }
}
