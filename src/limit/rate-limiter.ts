import { neverAborted } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber } from "../_internal/describe.js";
import { resolved } from "../_internal/thenable.js";
import { refuseWait, WaitQueue } from "../_internal/wait-queue.js";
import { type Clock, getClock, type TimerHandle } from "../clock.js";

/** Options of {@link RateLimiter}: at most `limit` starts in any `interval` ms. */
export interface RateLimiterOptions {
  /** Starts allowed per window: an integer from 1 and up (`Infinity` disables the limit). */
  readonly limit: number;
  /** Length of the sliding window, in milliseconds. */
  readonly interval: number;
}

/** The `rate` option of `map` and of the stream operators: a shared limiter, or the options of a fresh one. */
export type RateOption = RateLimiter | RateLimiterOptions;

/** Options of {@link RateLimiter.acquire} and {@link RateLimiter.run}. */
export interface RateLimiterAcquireOptions {
  /** Aborting it while the call waits for its turn removes it from the queue and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Lets at most `limit` operations start in any sliding window of `interval`
 * milliseconds (p-throttle's `limit`, p-queue's `intervalCap`): the tool for
 * "at most 200 requests a second". Callers that must wait are served first
 * come, first served, on aiokit's clock, so the virtual clock of
 * `aiokit/testing` drives it exactly.
 *
 * The window is sliding, not fixed: the limiter remembers the last `limit`
 * start times, and the next start may happen `interval` ms after the oldest of
 * them. Over any window of `interval` ms (half-open: a start exactly `interval`
 * ms after another is in the next window) there are never more than `limit`
 * starts.
 *
 * Pass one to `map`'s or a stream operator's `rate` option to share a budget
 * between several of them.
 *
 * @example
 * ```ts
 * import { RateLimiter, map } from "aiokit";
 * const rate = new RateLimiter({ limit: 200, interval: 1_000 });
 * await rate.acquire(); // resolves at once: the window is empty
 * const page = await rate.run((signal) => fetch(url, { signal }));
 * await map(urls, (url, _i, signal) => fetch(url, { signal }), { concurrency: 50, rate });
 * ```
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #interval: number;
  // The last `limit` start times, as a ring once full: #times[#oldest] is the oldest.
  readonly #times: number[] = [];
  #oldest = 0;
  /** Callers waiting for their turn, first come first served; one leaving re-arms the timer. */
  readonly #queue = new WaitQueue<void>(() => this.#schedule());
  #timer: TimerHandle | undefined;
  #timerClock: Clock | undefined;

  /**
   * @throws TypeError when `limit` is not an integer from 1 and up or
   * `interval` not a number from 0 and up.
   */
  constructor(options: RateLimiterOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Expected RateLimiter options to be an object like { limit, interval }, got ${describe(options)}`,
      );
    }
    expectNumber("`limit`", options.limit, { min: 1, integer: true, allowInfinity: true });
    expectNumber("`interval`", options.interval);
    this.#limit = options.limit;
    this.#interval = options.interval;
  }

  /** Starts allowed per window. */
  get limit(): number {
    return this.#limit;
  }

  /** Length of the sliding window, in ms. */
  get interval(): number {
    return this.#interval;
  }

  /** Number of callers waiting for their turn now. */
  get pendingCount(): number {
    return this.#queue.size;
  }

  /**
   * Takes a start now if the window allows it and nobody is waiting ahead:
   * true when it did (count it as started), false otherwise. Never waits.
   *
   * @example
   * ```ts
   * if (!rate.tryAcquire()) await rate.acquire({ signal });
   * ```
   */
  tryAcquire(): boolean {
    if (this.#queue.size > 0) return false;
    const now = getClock().now();
    if (!this.#allows(now)) return false;
    this.#record(now);
    return true;
  }

  /**
   * Waits for a turn to start (first come, first served) and takes it.
   * Rejects with `signal.reason` if `signal` aborts first; the call then
   * leaves the queue at once and takes nothing.
   *
   * @example
   * ```ts
   * await rate.acquire({ signal });
   * await fetch(url, { signal });
   * ```
   */
  acquire(options?: RateLimiterAcquireOptions): Promise<void> {
    const signal = options?.signal;
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.tryAcquire()) return resolved;
    const turn = this.#queue.wait(signal);
    this.#schedule();
    return turn;
  }

  /**
   * Waits for a turn ({@link RateLimiter.acquire}), then runs `fn(signal)` and
   * returns its result. Aborting `signal` while waiting rejects with its reason
   * without calling `fn`; once `fn` runs, the signal is `fn`'s to honour.
   *
   * @example
   * ```ts
   * const res = await rate.run((signal) => fetch(url, { signal }), { signal });
   * ```
   */
  async run<R>(
    fn: (signal: AbortSignal) => R | PromiseLike<R>,
    options?: RateLimiterAcquireOptions,
  ): Promise<Awaited<R>> {
    expectFunction("`fn`", fn);
    await this.acquire(options);
    return await fn(options?.signal ?? neverAborted);
  }

  #allows(now: number): boolean {
    if (this.#times.length < this.#limit) return true;
    return now - (this.#times[this.#oldest] as number) >= this.#interval;
  }

  #record(now: number): void {
    if (this.#limit === Number.POSITIVE_INFINITY) return;
    const times = this.#times;
    if (times.length < this.#limit) {
      times.push(now);
    } else {
      times[this.#oldest] = now;
      this.#oldest = this.#oldest + 1 === this.#limit ? 0 : this.#oldest + 1;
    }
  }

  // Arms the one timer for the moment the head waiter may start, or clears it when nobody waits.
  #schedule(): void {
    if (this.#queue.size === 0) {
      if (this.#timer !== undefined) {
        (this.#timerClock as Clock).clearTimer(this.#timer);
        this.#timer = undefined;
      }
      return;
    }
    if (this.#timer !== undefined) return;
    const clock = getClock();
    const due = (this.#times[this.#oldest] as number) + this.#interval;
    this.#timerClock = clock;
    this.#timer = clock.setTimer(this.#onTimer, due - clock.now());
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    const now = getClock().now();
    while (this.#queue.size > 0 && this.#allows(now)) {
      this.#record(now);
      this.#queue.wakeOne(undefined);
    }
    this.#schedule();
  };
}

/** @internal Turns a `rate` option into a limiter (a fresh one for plain options). */
export function toRateLimiter(rate: RateOption | undefined): RateLimiter | undefined {
  if (rate === undefined || rate instanceof RateLimiter) return rate;
  if (typeof rate !== "object" || rate === null) {
    throw new TypeError(
      `Expected \`rate\` to be a RateLimiter or { limit, interval }, got ${describe(rate)}`,
    );
  }
  return new RateLimiter(rate);
}
