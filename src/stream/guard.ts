/**
 * The outermost iterator of an iteration that has a signal: when the signal
 * aborts, it closes the whole chain (each stage cancels its work and closes
 * the stage before it, down to the source) and makes sure the consumer sees
 * the signal's reason, once. It removes its listener when the iteration ends.
 * @module
 */
import { addAbortListener, removeAbortListener } from "../_internal/abort.js";
import { type Context, close, DONE, DONE_PROMISE } from "../_internal/iterators.js";

export class Guard<T> implements AsyncIterator<T> {
  readonly #inner: AsyncIterator<T>;
  readonly #signal: AbortSignal;
  readonly #unlink: () => void;
  #done = false;
  #reported = false; // the consumer has seen the abort reason
  #closing: Promise<unknown> | undefined;

  constructor(
    inner: AsyncIterator<T>,
    ctx: Context & { readonly signal: AbortSignal },
    unlink: () => void,
  ) {
    this.#inner = inner;
    this.#signal = ctx.signal;
    this.#unlink = unlink;
    if (this.#signal.aborted) return;
    addAbortListener(this.#signal, this.#onAbort);
  }

  readonly #onAbort = (): void => {
    if (this.#done) return;
    this.#closing = close(this.#inner).catch(() => undefined);
  };

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    if (this.#signal.aborted) return this.#abortNow();
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = this.#inner.next();
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(this.#onResult, this.#onError);
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#done) return this.#closing?.then(() => DONE) ?? DONE_PROMISE;
    this.#finish();
    if (this.#signal.aborted) {
      this.#reported = true;
      this.#closing ??= close(this.#inner).catch(() => undefined);
      return this.#closing.then(() => DONE);
    }
    const closing = close(this.#inner);
    this.#closing = closing.catch(() => undefined);
    return closing.then(() => DONE);
  }

  readonly #onResult = (result: IteratorResult<T>): IteratorResult<T> => {
    if (this.#signal.aborted && !this.#reported) {
      this.#reported = true;
      this.#finish();
      // The chain finished or handed out a value as the signal aborted: the
      // consumer still sees the abort (close first, in case a value came).
      this.#closing ??= close(this.#inner).catch(() => undefined);
      throw this.#signal.reason;
    }
    if (result.done === true) this.#finish();
    return result;
  };

  readonly #onError = (error: unknown): never => {
    this.#finish();
    if (this.#signal.aborted && !this.#reported) {
      this.#reported = true;
      throw this.#signal.reason;
    }
    throw error;
  };

  async #abortNow(): Promise<IteratorResult<T>> {
    this.#finish();
    this.#closing ??= close(this.#inner).catch(() => undefined);
    await this.#closing;
    if (this.#reported) return DONE;
    this.#reported = true;
    throw this.#signal.reason;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    removeAbortListener(this.#signal, this.#onAbort);
    this.#unlink();
  }
}
