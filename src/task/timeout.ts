import { link } from "../_internal/abort.js";
import { expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import { isThenable } from "../_internal/thenable.js";
import { getClock } from "../clock.js";
import { isCancellation, TimeoutError } from "../errors.js";

/** Options of {@link timeout} and its relatives. */
export interface TimeoutOptions {
  /** An outer signal: aborting it cancels `fn` too, and the call rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs `fn(signal)` with a time limit of `ms` milliseconds: `asyncio.timeout`
 * / trio's `fail_after`. On expiry, `fn`'s signal is aborted, `timeout` waits
 * for `fn` to settle (nothing is left running), then rejects with a
 * {@link TimeoutError}. Only its own expiry becomes a `TimeoutError`: an outer
 * cancellation or an enclosing timeout passes through unchanged.
 *
 * @example
 * ```ts
 * import { timeout } from "aiokit";
 * const res = await timeout(5_000, (signal) => fetch(url, { signal }));
 * ```
 */
export function timeout<T>(
  ms: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: TimeoutOptions,
): Promise<T> {
  try {
    expectNumber("`ms`", ms, { allowInfinity: true });
  } catch (error) {
    return Promise.reject(error);
  }
  return runWithDeadline(ms, ms, fn, options, true) as Promise<T>;
}

/**
 * Like {@link timeout}, with an absolute deadline on aiokit's clock (see
 * `now()`): `asyncio.timeout_at`. A deadline already passed expires at once,
 * without calling `fn`.
 *
 * @example
 * ```ts
 * import { now, timeoutAt } from "aiokit";
 * const deadline = now() + 10_000; // one budget for several steps
 * const a = await timeoutAt(deadline, (signal) => stepOne(signal));
 * const b = await timeoutAt(deadline, (signal) => stepTwo(a, signal));
 * ```
 */
export function timeoutAt<T>(
  deadline: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: TimeoutOptions,
): Promise<T> {
  if (typeof deadline !== "number" || Number.isNaN(deadline)) {
    return Promise.reject(
      new TypeError(`Expected \`deadline\` to be a number, got ${String(deadline)}`),
    );
  }
  return runWithDeadline(deadline - getClock().now(), undefined, fn, options, true) as Promise<T>;
}

/**
 * Like {@link timeout}, but on expiry resolves `undefined` instead of
 * rejecting: trio's `move_on_after`, for work that is optional.
 *
 * @example
 * ```ts
 * import { moveOnAfter } from "aiokit";
 * const extras = await moveOnAfter(200, (signal) => fetchRecommendations(signal));
 * render(page, extras ?? []);
 * ```
 */
export function moveOnAfter<T>(
  ms: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: TimeoutOptions,
): Promise<T | undefined> {
  try {
    expectNumber("`ms`", ms, { allowInfinity: true });
  } catch (error) {
    return Promise.reject(error);
  }
  return runWithDeadline(ms, ms, fn, options, false);
}

/**
 * Like {@link moveOnAfter}, with an absolute deadline on aiokit's clock:
 * trio's `move_on_at`.
 *
 * @example
 * ```ts
 * import { moveOnAt, now } from "aiokit";
 * const extras = await moveOnAt(now() + 200, (signal) => fetchRecommendations(signal));
 * ```
 */
export function moveOnAt<T>(
  deadline: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: TimeoutOptions,
): Promise<T | undefined> {
  if (typeof deadline !== "number" || Number.isNaN(deadline)) {
    return Promise.reject(
      new TypeError(`Expected \`deadline\` to be a number, got ${String(deadline)}`),
    );
  }
  return runWithDeadline(deadline - getClock().now(), undefined, fn, options, false);
}

async function runWithDeadline<T>(
  remaining: number,
  ms: number | undefined,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options: TimeoutOptions | undefined,
  throwOnExpiry: boolean,
): Promise<T | undefined> {
  expectFunction("`fn`", fn);
  const outer = options?.signal;
  expectSignal(outer);
  if (outer?.aborted) throw outer.reason;
  const limit = ms ?? Math.max(0, remaining);
  if (remaining <= 0 && ms === undefined) {
    if (throwOnExpiry) throw new TimeoutError(0, "The deadline had already passed");
    return undefined;
  }
  const controller = new AbortController();
  const unlink = link(outer, controller);
  const clock = getClock();
  let expiry: TimeoutError | undefined;
  const timer =
    remaining === Number.POSITIVE_INFINITY
      ? undefined
      : clock.setTimer(() => {
          if (controller.signal.aborted) return; // cancelled from outside first
          expiry = new TimeoutError(limit);
          controller.abort(expiry);
        }, remaining);
  try {
    const result = fn(controller.signal);
    const value = isThenable(result) ? await result : result;
    if (expiry === undefined) return value;
    return expired(expiry, outer, throwOnExpiry);
  } catch (error) {
    if (
      expiry === undefined ||
      error === outer?.reason ||
      (error !== expiry && !isCancellation(error))
    ) {
      throw error;
    }
    return expired(expiry, outer, throwOnExpiry);
  } finally {
    if (timer !== undefined) clock.clearTimer(timer);
    unlink();
  }
}

/**
 * The outcome of a deadline that expired. An outer cancellation that came
 * while `fn` was still winding down wins over the expiry, as in asyncio and
 * trio: a cancel scope never replaces the cancellation of an enclosing one.
 */
function expired(
  expiry: TimeoutError,
  outer: AbortSignal | undefined,
  throwOnExpiry: boolean,
): undefined {
  if (outer?.aborted) throw outer.reason;
  if (throwOnExpiry) throw expiry;
  return undefined;
}
