/**
 * `take` and `drop`: the first `n` items, or all but them.
 * @module
 */
import { type Context, close, DONE } from "../_internal/iterators.js";
import { SerialStage } from "./serial.js";

/**
 * The first `limit` items. It closes the source as soon as it has handed out
 * the last one (cancelling the stages' work ahead of it), without waiting to
 * be asked for more, and never pulls an item past the limit.
 */
export class TakeStage<T> extends SerialStage<T> {
  #remaining: number;
  #closing: Promise<unknown> | undefined;

  constructor(up: AsyncIterator<unknown>, limit: number, ctx: Context) {
    super(up, ctx);
    this.#remaining = limit;
  }

  override next(): Promise<IteratorResult<T>> {
    if (this.#remaining <= 0 && !this.done) {
      this.done = true;
      return this.#closeUp().then(() => DONE);
    }
    if (this.done && this.#closing !== undefined) return this.#closing.then(() => DONE);
    return super.next();
  }

  protected async step(): Promise<IteratorResult<T>> {
    try {
      const result = await this.pullUp();
      if (this.ended(result)) return DONE;
      if (--this.#remaining === 0) {
        // Close now, so work ahead of us stops; the next call waits for it.
        this.done = true;
        this.#closeUp().catch(() => undefined);
      }
      return result as IteratorResult<T>;
    } finally {
      this.idle();
    }
  }

  override return(): Promise<IteratorResult<T>> {
    if (this.#closing !== undefined) return this.#closing.then(() => DONE);
    return super.return();
  }

  #closeUp(): Promise<unknown> {
    this.#closing ??= close(this.up);
    return this.#closing;
  }
}

/** All items but the first `count`. */
export class DropStage<T> extends SerialStage<T> {
  #remaining: number;

  constructor(up: AsyncIterator<unknown>, count: number, ctx: Context) {
    super(up, ctx);
    this.#remaining = count;
  }

  override next(): Promise<IteratorResult<T>> {
    // Past the dropped items, pass calls straight through.
    if (this.#remaining === 0 && !this.done) return this.up.next() as Promise<IteratorResult<T>>;
    return super.next();
  }

  protected async step(): Promise<IteratorResult<T>> {
    try {
      for (;;) {
        const result = await this.pullUp();
        if (this.ended(result)) return DONE;
        if (this.#remaining === 0) return result as IteratorResult<T>;
        this.#remaining--;
      }
    } finally {
      this.idle();
    }
  }
}
