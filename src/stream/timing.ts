/**
 * `throttle` (a rate limit on items) and `timeout` (a time limit per item).
 * @module
 */
import { type Context, close, DONE } from "../_internal/iterators.js";
import { getClock } from "../clock.js";
import { TimeoutError } from "../errors.js";
import type { RateLimiter } from "../limit/rate-limiter.js";
import { SerialStage } from "./serial.js";

/** Hands each item on only when the rate limiter allows: at most `limit` per sliding `interval`. */
export class ThrottleStage<T> extends SerialStage<T> {
  readonly #rate: RateLimiter;

  constructor(up: AsyncIterator<unknown>, rate: RateLimiter, ctx: Context) {
    super(up, ctx);
    this.#rate = rate;
  }

  protected async step(): Promise<IteratorResult<T>> {
    try {
      const result = await this.pullUp();
      if (this.ended(result)) return DONE;
      try {
        if (!this.#rate.tryAcquire()) await this.#rate.acquire({ signal: this.signal });
      } catch (error) {
        return await this.fail(error);
      }
      return result as IteratorResult<T>;
    } finally {
      this.idle();
    }
  }
}

/**
 * Fails with a `TimeoutError` when the source takes longer than `ms` to
 * produce an item (or its end). The source is then asked to close; if it is
 * stuck in `next()` the stream does not wait for it.
 */
export class TimeoutStage<T> implements AsyncIterator<T> {
  readonly #up: AsyncIterator<unknown>;
  readonly #ms: number;
  #done = false;
  #busy = false;
  #timedOut = false; // the source was asked to close already

  constructor(up: AsyncIterator<unknown>, ms: number, _ctx: Context) {
    this.#up = up;
    this.#ms = ms;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return Promise.resolve(DONE);
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      const clock = getClock();
      let settled = false;
      const timer = clock.setTimer(() => {
        if (settled) return;
        settled = true;
        this.#done = true;
        this.#timedOut = true;
        close(this.#up).catch(() => undefined);
        reject(
          new TimeoutError(this.#ms, `The stream's next item took longer than ${this.#ms} ms`),
        );
      }, this.#ms);
      this.#busy = true;
      let pull: Promise<IteratorResult<unknown>>;
      try {
        pull = this.#up.next();
      } catch (error) {
        pull = Promise.reject(error);
      }
      pull.then(
        (result) => {
          this.#busy = false;
          if (settled) return;
          settled = true;
          clock.clearTimer(timer);
          if (result.done === true) this.#done = true;
          resolve(result as IteratorResult<T>);
        },
        (error: unknown) => {
          this.#busy = false;
          if (settled) return;
          settled = true;
          clock.clearTimer(timer);
          this.#done = true;
          reject(error);
        },
      );
    });
  }

  async return(): Promise<IteratorResult<T>> {
    if (this.#timedOut || (this.#done && !this.#busy)) return DONE;
    this.#done = true;
    await close(this.#up);
    return DONE;
  }
}
