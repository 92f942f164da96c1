/**
 * The pool's calls of the user's callbacks (`create` with its retries,
 * `destroy` that never rejects), waiting on one for an acquirer who may leave
 * before it settles, and the acquirer's `acquireTimeout`.
 * @module
 */
import { link, noop, onAbort } from "../_internal/abort.js";
import { getClock } from "../clock.js";
import { TimeoutError } from "../errors.js";
import { sleep } from "../task/sleep.js";
import type { PoolOperation, PoolSettings } from "./pool-options.js";

/** How a callback settled. */
export type Outcome<V> =
  | { readonly ok: true; readonly value: V }
  | { readonly ok: false; readonly error: unknown };

/** The acquirer still waiting on a callback: settle its promise. */
export interface Acquirer<R> {
  resolve(value: R): void;
  reject(reason: unknown): void;
}

/**
 * Waits on `work` for an acquirer who may leave first. When `signal` or
 * `closing` aborts before `work` settles, `onLeave(reason)` runs and the
 * promise rejects with the reason at once. When `work` settles, `settle` gets
 * its outcome and the acquirer (who must then be resolved or rejected), or
 * undefined when the acquirer already left: the result is then the pool's to
 * put back or destroy.
 */
export function forAcquirer<V, R>(
  work: PromiseLike<V>,
  signal: AbortSignal | undefined,
  closing: AbortSignal,
  onLeave: (reason: unknown) => void,
  settle: (outcome: Outcome<V>, acquirer: Acquirer<R> | undefined) => void,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let waiting = true;
    const leave = (reason: unknown): void => {
      if (!waiting) return;
      waiting = false;
      off();
      onLeave(reason);
      reject(reason);
    };
    const offSignal = onAbort(signal, leave);
    const offClosing = onAbort(closing, leave);
    const off = (): void => {
      offSignal();
      offClosing();
    };
    const done = (outcome: Outcome<V>): void => {
      if (!waiting) {
        settle(outcome, undefined);
        return;
      }
      waiting = false;
      off();
      settle(outcome, { resolve, reject });
    };
    work.then(
      (value) => done({ ok: true, value }),
      (error: unknown) => done({ ok: false, error }),
    );
  });
}

/**
 * Calls `create`, again after a failure up to `createRetries` times (the
 * retried failures go to `report`), pausing `createRetryDelay` between.
 */
export async function createWithRetries<T>(
  settings: PoolSettings<T>,
  signal: AbortSignal,
  report: (error: unknown, operation: PoolOperation) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await settings.create(signal);
    } catch (error) {
      if (attempt >= settings.createRetries || signal.aborted) throw error;
      report(error, "create");
      if (settings.createRetryDelay > 0) await sleep(settings.createRetryDelay, { signal });
    }
  }
}

/**
 * Calls `destroy(value)`, then `done()` however it settles (one tick after a
 * synchronous return, as for a promise); its error goes to `report`.
 */
export function destroyQuietly<T>(
  settings: PoolSettings<T>,
  value: T,
  report: (error: unknown, operation: PoolOperation) => void,
  done: () => void,
): Promise<void> {
  let result: unknown;
  try {
    result = settings.destroy(value);
  } catch (error) {
    result = Promise.reject(error);
  }
  return Promise.resolve(result).then(done, (error: unknown) => {
    report(error, "destroy");
    done();
  });
}

/**
 * The signal an acquirer with an `acquireTimeout` of `ms` waits with: it
 * aborts with `signal` or with a TimeoutError after `ms`. Undefined when
 * `ms` is Infinity (the acquirer's own signal is then enough). `clear()`
 * stops the timer and unlinks `signal`.
 */
export function acquireDeadline(
  signal: AbortSignal | undefined,
  ms: number,
): { readonly signal: AbortSignal; clear(): void } | undefined {
  if (ms === Number.POSITIVE_INFINITY) return undefined;
  const controller = new AbortController();
  const clock = getClock();
  const timer = clock.setTimer(() => {
    controller.abort(new TimeoutError(ms, `Cannot acquire a resource: timed out after ${ms} ms`));
  }, ms);
  const unlink = link(signal, controller);
  return {
    signal: controller.signal,
    clear: () => {
      clock.clearTimer(timer);
      unlink();
    },
  };
}

/** `onError` as the pool calls it: never throwing (its own errors are ignored). */
export function reporter(
  onError: ((error: unknown, operation: PoolOperation) => void) | undefined,
): (error: unknown, operation: PoolOperation) => void {
  if (onError === undefined) return noop;
  return (error, operation) => {
    try {
      onError(error, operation);
    } catch {
      // onError must not throw; the pool's bookkeeping must go on regardless.
    }
  };
}
