/**
 * Error classes by cause. Cancellation and timeouts are `DOMException`s with the
 * platform's names (`"AbortError"`, `"TimeoutError"`), so code written for
 * `fetch` and `AbortSignal.timeout()` recognises aiokit's errors unchanged.
 * @module
 */

/** Options accepted by aiokit's error constructors. */
export interface ErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
}

function setCause(error: object, options: ErrorOptions | undefined): void {
  // Node 20's DOMException ignores `cause`; define it as Error would.
  if (options !== undefined && "cause" in options) {
    Object.defineProperty(error, "cause", {
      value: options.cause,
      writable: true,
      configurable: true,
    });
  }
}

/**
 * The reason aiokit aborts a signal with when it cancels work: a `DOMException`
 * named `"AbortError"`, exactly what `fetch` and `AbortController.abort()` use.
 *
 * @example
 * ```ts
 * import { CancelledError, isCancellation } from "aiokit";
 * const controller = new AbortController();
 * controller.abort(new CancelledError("Shutting down"));
 * isCancellation(controller.signal.reason); // true
 * ```
 */
export class CancelledError extends DOMException {
  constructor(message = "The operation was cancelled", options?: ErrorOptions) {
    super(message, "AbortError");
    setCause(this, options);
  }
}

/**
 * Rejection of `timeout()` / `timeoutAt()` when the time ran out: a
 * `DOMException` named `"TimeoutError"`, as `AbortSignal.timeout()` produces.
 *
 * @example
 * ```ts
 * import { timeout, TimeoutError, sleep } from "aiokit";
 * try {
 *   await timeout(10, (signal) => sleep(1_000, { signal }));
 * } catch (error) {
 *   console.log(error instanceof TimeoutError); // true
 * }
 * ```
 */
export class TimeoutError extends DOMException {
  /** The time limit that was exceeded, in milliseconds. */
  readonly ms: number;
  constructor(
    ms: number,
    message = `The operation timed out after ${ms} ms`,
    options?: ErrorOptions,
  ) {
    super(message, "TimeoutError");
    this.ms = ms;
    setCause(this, options);
  }
}

/**
 * A task group's failure: `errors` holds every error of its children (and of
 * its body) in the order they happened, each error object once (a body or task
 * that awaited a failed task and rethrew its error does not add it again).
 * Cancellations are not errors and never appear here.
 *
 * @example
 * ```ts
 * import { taskGroup, TaskGroupError } from "aiokit";
 * try {
 *   await taskGroup((tg) => {
 *     tg.spawn(() => { throw new Error("boom"); });
 *   });
 * } catch (error) {
 *   if (error instanceof TaskGroupError) console.log(error.errors); // [Error: boom]
 * }
 * ```
 */
export class TaskGroupError extends AggregateError {
  override readonly name = "TaskGroupError";
  /** Name of the group that failed, when it had one. */
  readonly group: string | undefined;
  constructor(errors: readonly unknown[], group?: string) {
    const label = group === undefined ? "Task group" : `Task group "${group}"`;
    const first = errors[0];
    const firstMessage = first instanceof Error ? `: ${first.message}` : "";
    super(
      errors,
      `${label} failed with ${errors.length} error${errors.length === 1 ? "" : "s"}${firstMessage}`,
    );
    this.group = group;
  }
}

/**
 * True for the errors that mean "this work was cancelled": aiokit's
 * {@link CancelledError} and the platform's `AbortError`s (`fetch`, Node's
 * `AbortSignal` helpers, `DOMException`). A {@link TimeoutError} is not a
 * cancellation: it is a failure of the operation that timed out.
 *
 * @example
 * ```ts
 * import { isCancellation } from "aiokit";
 * try {
 *   await fetch(url, { signal });
 * } catch (error) {
 *   if (!isCancellation(error)) throw error; // cancellation is not a failure
 * }
 * ```
 */
export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  if (typeof error !== "object" || error === null) return false;
  return (error as { name?: unknown }).name === "AbortError";
}
