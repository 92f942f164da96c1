import { DONE_PROMISE } from "./iterators.js";

/**
 * The error a stream stage failed with, kept until its consumer reaches the
 * end and delivered to it once: the stage's later `next()` calls find it
 * finished and resolve as done.
 */
export class Failure {
  #failed = false;
  #error: unknown;

  /** True when an error waits to be delivered. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Records `error` as the one the consumer gets. */
  fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
  }

  /** Drops the error: the consumer stopped before it got there, so it never sees it. */
  forget(): void {
    this.#failed = false;
    this.#error = undefined;
  }

  /**
   * The end the consumer gets: a rejection with the error (forgotten from now
   * on), or done when there is none. With `signal` aborted, its reason
   * replaces the error: a cancelled consumer sees the cancellation, whatever
   * the source failed with meanwhile.
   */
  end(signal?: AbortSignal | undefined): Promise<IteratorReturnResult<undefined>> {
    if (!this.#failed) return DONE_PROMISE;
    const error = this.#error;
    this.forget();
    return Promise.reject(signal?.aborted ? signal.reason : error);
  }
}
