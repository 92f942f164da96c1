/**
 * `catch`: recover from the source's failure with another source.
 * @module
 */
import { type Context, close, DONE } from "../_internal/iterators.js";
import { isThenable } from "../_internal/thenable.js";
import { SerialStage } from "./serial.js";
import { openSource, type StreamSource } from "./sources.js";

/** What `catch`'s handler may return: a source to go on with, or nothing to end the stream. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler with no return statement (it only logs) returns void
export type CatchResult<U> = StreamSource<U> | undefined | void;

/**
 * When the source fails, calls `handler(error)` and goes on with the items of
 * the source it returns (or ends, when it returns nothing). The handler's own
 * error propagates. The outer signal's reason (the iteration was cancelled)
 * is not caught.
 */
export class CatchStage<T> extends SerialStage<T> {
  readonly #handler: (error: unknown) => CatchResult<unknown> | PromiseLike<CatchResult<unknown>>;
  #replacement: AsyncIterator<unknown> | undefined;

  constructor(
    up: AsyncIterator<unknown>,
    handler: (error: unknown) => CatchResult<unknown> | PromiseLike<CatchResult<unknown>>,
    ctx: Context,
  ) {
    super(up, ctx);
    this.#handler = handler;
  }

  protected async step(): Promise<IteratorResult<T>> {
    try {
      const replacement = this.#replacement;
      if (replacement !== undefined) {
        const result = await replacement.next();
        if (result.done === true) this.done = true;
        return result as IteratorResult<T>;
      }
      try {
        const result = await this.up.next();
        if (result.done === true) this.done = true;
        return result as IteratorResult<T>;
      } catch (error) {
        const signal = this.ctx.signal;
        if (this.done || signal?.aborted) throw signal?.aborted ? signal.reason : error;
        let source = this.#handler(error);
        if (isThenable(source)) source = await source;
        if (source === undefined || source === null) {
          this.done = true;
          return DONE;
        }
        this.#replacement = openSource(source as StreamSource<unknown>, this.ctx);
      }
      const result = await this.#replacement.next();
      if (result.done === true) this.done = true;
      return result as IteratorResult<T>;
    } catch (error) {
      this.done = true;
      throw error;
    } finally {
      this.idle();
    }
  }

  protected override async closeAll(step: Promise<unknown> | undefined): Promise<void> {
    const target = this.#replacement ?? this.up;
    const closing = close(target);
    if (step !== undefined) await step.then(undefined, () => undefined);
    // The handler may have opened a replacement while we waited.
    const replacement = this.#replacement;
    if (replacement !== undefined && replacement !== target) await close(replacement);
    await closing;
  }
}
