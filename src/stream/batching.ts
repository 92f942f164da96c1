/**
 * `batch` (items in arrays) and `buffer` (read ahead of the consumer).
 * @module
 */
import { Failure } from "../_internal/failure.js";
import { type Context, close, DONE, DONE_PROMISE } from "../_internal/iterators.js";
import { PendingNext } from "../_internal/pending-next.js";
import { Ring } from "../_internal/ring.js";
import { getClock } from "../clock.js";
import { concurrentNext, pull } from "./concurrent.js";
import { SerialStage } from "./serial.js";

const TIMED_OUT: unique symbol = Symbol("timed out");

/** Resolves with `pull`'s result, or with TIMED_OUT after `ms` on aiokit's clock (the pull goes on). */
function within(
  pull: Promise<IteratorResult<unknown>>,
  ms: number,
): Promise<IteratorResult<unknown> | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const clock = getClock();
    const timer = clock.setTimer(() => resolve(TIMED_OUT), ms);
    pull.then(
      (result) => {
        clock.clearTimer(timer);
        resolve(result);
      },
      (error: unknown) => {
        clock.clearTimer(timer);
        reject(error);
      },
    );
  });
}

/**
 * Arrays of up to `size` items; the last one may be shorter. With `maxWait`,
 * a batch is also handed out when `maxWait` ms have passed since its first
 * item arrived (the pull in progress then goes into the next batch).
 *
 * Errors: an error of the source fails the stream at once; the items of the
 * unfinished batch are dropped.
 */
export class BatchStage<T> extends SerialStage<T[]> {
  readonly #size: number;
  readonly #maxWait: number | undefined;
  #carry: Promise<IteratorResult<unknown>> | undefined;

  constructor(up: AsyncIterator<unknown>, size: number, maxWait: number | undefined, ctx: Context) {
    super(up, ctx);
    this.#size = size;
    this.#maxWait = maxWait;
  }

  protected async step(): Promise<IteratorResult<T[]>> {
    try {
      const batch: T[] = [];
      let deadline = 0;
      for (;;) {
        const pull = this.#carry ?? this.up.next();
        this.#carry = undefined;
        let result: IteratorResult<unknown> | typeof TIMED_OUT;
        try {
          if (batch.length === 0 || this.#maxWait === undefined) result = await pull;
          else result = await within(pull, deadline - getClock().now());
        } catch (error) {
          return this.upFailed(error);
        }
        if (result === TIMED_OUT) {
          this.#carry = pull;
          return { value: batch, done: false };
        }
        if (result.done === true || this.done) {
          this.done = true;
          return batch.length > 0 ? { value: batch, done: false } : DONE;
        }
        if (batch.length === 0 && this.#maxWait !== undefined) {
          deadline = getClock().now() + this.#maxWait;
        }
        batch.push(result.value as T);
        if (batch.length >= this.#size) return { value: batch, done: false };
      }
    } finally {
      this.idle();
    }
  }

  protected override async closeAll(step: Promise<unknown> | undefined): Promise<void> {
    const carry = this.#carry;
    this.#carry = undefined;
    const closing = close(this.up);
    if (step !== undefined) await step.then(undefined, () => undefined);
    if (carry !== undefined) await carry.then(undefined, () => undefined);
    await closing;
  }
}

/**
 * Reads up to `size` items ahead of the consumer, from its first `next()` on,
 * so a slow producer and a slow consumer overlap. The source's end or error
 * reaches the consumer after the items read before it.
 */
export class BufferStage<T> implements AsyncIterator<T> {
  readonly #up: AsyncIterator<unknown>;
  readonly #ctx: Context;
  readonly #size: number;
  readonly #items = new Ring<T>(16);
  #pulling = false;
  #upDone = false;
  readonly #failure = new Failure();
  #closed = false;
  readonly #pending = new PendingNext<T>();
  #pull: Promise<unknown> | undefined;

  constructor(up: AsyncIterator<unknown>, size: number, ctx: Context) {
    this.#up = up;
    this.#size = size;
    this.#ctx = ctx;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#closed) return DONE_PROMISE;
    if (this.#pending.parked) return concurrentNext();
    if (this.#items.size > 0) {
      const value = this.#items.shift() as T;
      this.#fill();
      return Promise.resolve({ value, done: false });
    }
    if (this.#upDone) return this.#end();
    const promise = this.#pending.park();
    this.#fill();
    return promise;
  }

  async return(): Promise<IteratorResult<T>> {
    if (this.#closed) return DONE;
    this.#closed = true;
    this.#items.clear();
    this.#pending.cancel(this.#ctx.signal);
    if (this.#upDone) return DONE;
    const pending = this.#pull;
    const closing = close(this.#up);
    if (pending !== undefined) await pending;
    await closing;
    return DONE;
  }

  #fill(): void {
    if (this.#pulling || this.#upDone || this.#closed || this.#items.size >= this.#size) return;
    this.#pulling = true;
    this.#pull = pull(this.#up, this.#onResult, this.#onError);
  }

  readonly #onResult = (result: IteratorResult<unknown>): void => {
    this.#pulling = false;
    this.#pull = undefined;
    if (this.#closed) return;
    if (result.done === true) {
      this.#upDone = true;
      this.#wake();
      return;
    }
    if (!this.#pending.deliver(result.value as T)) this.#items.push(result.value as T);
    this.#fill();
  };

  readonly #onError = (error: unknown): void => {
    this.#pulling = false;
    this.#pull = undefined;
    this.#upDone = true;
    if (this.#closed) return;
    this.#failure.fail(error);
    this.#wake();
  };

  #wake(): void {
    if (this.#pending.parked) this.#pending.settle(this.#end());
  }

  #end(): Promise<IteratorResult<T>> {
    this.#closed = true;
    return this.#failure.end(this.#ctx.signal);
  }
}
