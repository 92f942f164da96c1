/**
 * Stages that handle one item at a time: `map`, `filter`, `tap` without
 * concurrency, and the flattening half of `flatMap`. Each is an async
 * iterator over the stage before it.
 * @module
 */
import { sharedController } from "../_internal/abort.js";
import {
  type Context,
  close,
  closeQuietly,
  closeReason,
  DONE,
  DONE_PROMISE,
  iteratorOf,
} from "../_internal/iterators.js";
import { isThenable } from "../_internal/thenable.js";
import type { RateLimiter } from "../limit/rate-limiter.js";
import { concurrentNext } from "./concurrent.js";
import { openSource, type StreamSource } from "./sources.js";

/**
 * The life cycle every serial stage shares: one `next()` at a time; an error
 * of the stage's own work closes the source before it propagates (an error of
 * the source propagates as is: the source has finished); `return()` aborts
 * the stage's signal, closes the source and waits for the step in progress.
 */
export abstract class SerialStage<T> implements AsyncIterator<T> {
  protected readonly up: AsyncIterator<unknown>;
  protected readonly ctx: Context;
  #controller: AbortController | undefined;
  /** No more items: the source ended or failed, the stage failed, or it was closed. */
  protected done = false;
  #step: Promise<IteratorResult<T>> | undefined;
  #busy = false;
  #returned: Promise<IteratorResult<T>> | undefined;

  constructor(up: AsyncIterator<unknown>, ctx: Context) {
    this.up = up;
    this.ctx = ctx;
  }

  /** The stage's signal, given to user functions: aborted when the stage is closed early. */
  protected get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = sharedController();
      this.#controller = controller;
    }
    return controller.signal;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.done) return DONE_PROMISE;
    if (this.#busy) return concurrentNext();
    this.#busy = true;
    const step = this.step();
    this.#step = step;
    return step;
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#returned !== undefined) return this.#returned;
    if (this.done && !this.#busy) return DONE_PROMISE;
    this.done = true;
    this.#controller?.abort(closeReason(this.ctx));
    this.#returned = this.closeAll(this.#busy ? this.#step : undefined).then(() => DONE);
    return this.#returned;
  }

  /** Produces the next result; must call {@link SerialStage.idle} when it settles. */
  protected abstract step(): Promise<IteratorResult<T>>;

  /** Marks the step finished (call it in a `finally`). */
  protected idle(): void {
    this.#busy = false;
  }

  /** Closes what this stage holds (the source; subclasses add theirs) after the step in progress. */
  protected async closeAll(step: Promise<unknown> | undefined): Promise<void> {
    const closing = close(this.up);
    if (step !== undefined) await step.then(undefined, () => undefined);
    await closing;
  }

  /** The stage's own work failed: stop, close the source, and fail with `error` (or the outer reason). */
  protected async fail(error: unknown): Promise<never> {
    this.done = true;
    this.#controller?.abort(closeReason(this.ctx));
    await closeQuietly(this.up);
    throw this.ctx.signal?.aborted ? this.ctx.signal.reason : error;
  }

  /**
   * The source's next result; when the source fails, the stage fails with
   * its error (see {@link SerialStage.upFailed}).
   */
  protected pullUp(): Promise<IteratorResult<unknown>> {
    try {
      return this.up.next().then(undefined, this.#upFailed);
    } catch (error) {
      return this.upFailed(error);
    }
  }

  readonly #upFailed = (error: unknown): never => this.upFailed(error);

  /** True (and the stage done) when `result` ends the stream or the stage was closed meanwhile. */
  protected ended(result: IteratorResult<unknown>): boolean {
    if (result.done === true || this.done) {
      this.done = true;
      return true;
    }
    return false;
  }

  /** The source failed: it has finished; fail with its error (or the outer reason). */
  protected upFailed(error: unknown): never {
    this.done = true;
    this.#controller?.abort(closeReason(this.ctx));
    throw this.ctx.signal?.aborted ? this.ctx.signal.reason : error;
  }
}

export const MAP = 0;
export const FILTER = 1;
export const TAP = 2;

/** `map`, `filter` or `tap`, one item at a time. */
export class SerialMapStage<T> extends SerialStage<T> {
  readonly #fn: (item: unknown, index: number, signal: AbortSignal) => unknown;
  readonly #kind: number;
  readonly #rate: RateLimiter | undefined;
  #index = 0;

  constructor(
    up: AsyncIterator<unknown>,
    fn: (item: unknown, index: number, signal: AbortSignal) => unknown,
    kind: number,
    rate: RateLimiter | undefined,
    ctx: Context,
  ) {
    super(up, ctx);
    this.#fn = fn;
    this.#kind = kind;
    this.#rate = rate;
  }

  protected async step(): Promise<IteratorResult<T>> {
    try {
      for (;;) {
        const result = await this.pullUp();
        if (this.ended(result)) return DONE;
        let out: unknown;
        try {
          const rate = this.#rate;
          if (rate !== undefined && !rate.tryAcquire()) await rate.acquire({ signal: this.signal });
          out = this.#fn(result.value, this.#index++, this.signal);
          if (isThenable(out)) out = await out;
        } catch (error) {
          return await this.fail(error);
        }
        if (this.#kind === MAP) return { value: out as T, done: false };
        if (this.#kind === TAP || out) return result as IteratorResult<T>;
      }
    } finally {
      this.idle();
    }
  }
}

/**
 * The flattening half of `flatMap`: drains each iterable the stage before it
 * produces, one after another. Strings and other non-iterables fail with a
 * TypeError (as the TC39 `flatMap` does).
 */
export class FlattenStage<T> extends SerialStage<T> {
  #inner: AsyncIterator<unknown> | Iterator<unknown> | undefined;

  protected async step(): Promise<IteratorResult<T>> {
    try {
      for (;;) {
        const inner = this.#inner;
        if (inner !== undefined) {
          let result: IteratorResult<unknown>;
          try {
            result = await inner.next();
            if (result.done !== true && isThenable(result.value)) {
              result = { value: await result.value, done: false };
            }
          } catch (error) {
            this.#inner = undefined;
            return await this.fail(error);
          }
          if (result.done !== true) {
            if (this.done) break;
            return result as IteratorResult<T>;
          }
          this.#inner = undefined;
        }
        if (this.done) break;
        const outer = await this.pullUp();
        if (this.ended(outer)) break;
        try {
          const value = outer.value;
          if (typeof value === "string") iteratorOf(value, "the result of flatMap's function");
          this.#inner = openSource(value as StreamSource<unknown>, this.ctx);
        } catch (error) {
          return await this.fail(error);
        }
      }
      this.done = true;
      return DONE;
    } finally {
      this.idle();
    }
  }

  protected override async closeAll(step: Promise<unknown> | undefined): Promise<void> {
    const inner = this.#inner;
    this.#inner = undefined;
    const closing = [close(this.up)];
    if (inner !== undefined) closing.push(close(inner));
    if (step !== undefined) await step.then(undefined, () => undefined);
    const results = await Promise.allSettled(closing);
    for (const result of results) if (result.status === "rejected") throw result.reason;
  }

  protected override async fail(error: unknown): Promise<never> {
    const inner = this.#inner;
    this.#inner = undefined;
    if (inner !== undefined) await closeQuietly(inner);
    return super.fail(error);
  }
}
