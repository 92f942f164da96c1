import { DONE } from "./iterators.js";

/**
 * The consumer's one `next()` that a stream stage could not answer at once:
 * the stage parks it, and hands it an item, the end or an error when one
 * arrives. A stage is read one `next()` at a time, so there is at most one.
 */
export class PendingNext<T> {
  #resolve: ((result: IteratorResult<T>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  // Bound once per stage, so parking a next() allocates its promise and nothing else.
  readonly #executor = (
    resolve: (result: IteratorResult<T>) => void,
    reject: (error: unknown) => void,
  ): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  /** True while a `next()` is parked. */
  get parked(): boolean {
    return this.#resolve !== undefined;
  }

  /** Parks the consumer's `next()`: returns the promise that call hands back. */
  park(): Promise<IteratorResult<T>> {
    return new Promise<IteratorResult<T>>(this.#executor);
  }

  /**
   * Resolves the parked `next()` with `value`, if one is parked, and reports
   * whether it was. The result object is made only then: an item that goes
   * into a buffer instead costs nothing here.
   */
  deliver(value: T): boolean {
    const resolve = this.#resolve;
    if (resolve === undefined) return false;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve({ value, done: false });
    return true;
  }

  /** Resolves the parked `next()`, if any, as done. */
  done(): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve?.(DONE);
  }

  /**
   * Hands the parked `next()` the stage's end (done, or its error). Check
   * {@link PendingNext.parked} first: working out the end usually has effects
   * (the stage marks itself finished, the error is delivered once), and a
   * rejection nobody is parked for would go unhandled.
   */
  settle(end: Promise<IteratorResult<T>>): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    end.then(resolve, reject);
  }

  /**
   * The consumer called `return()` while its `next()` was parked: that call
   * rejects with the outside signal's reason when the signal is why it stops,
   * else it resolves as done (an error not delivered yet stays undelivered).
   */
  cancel(signal: AbortSignal | undefined): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (signal?.aborted) reject?.(signal.reason);
    else resolve?.(DONE);
  }
}
