import { noop } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import { Scope } from "../_internal/scope.js";
import { isThenable } from "../_internal/thenable.js";
import { CancelledError } from "../errors.js";
import { type RateLimiter, type RateOption, toRateLimiter } from "./rate-limiter.js";

/** The function `map` calls per item: gets the item, its index and the call's shared signal. */
export type MapFn<T, R> = (item: T, index: number, signal: AbortSignal) => R | PromiseLike<R>;

/** What `map` accepts as input: any iterable (its items may be promises) or async iterable. */
export type MapInput<T> = Iterable<T | PromiseLike<T>> | AsyncIterable<T>;

/** Options of {@link map}. */
export interface MapOptions {
  /** Most calls of `fn` running at once: an integer from 1 and up, or `Infinity`. */
  readonly concurrency: number;
  /** Aborting it stops pulling input, cancels the running calls, waits for them and rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
  /** Collect a `PromiseSettledResult` per item instead of failing on the first error. */
  readonly settle?: boolean | undefined;
  /** Also limit how often `fn` starts: a shared {@link RateLimiter} or `{ limit, interval }` for a fresh one. */
  readonly rate?: RateOption | undefined;
}

type Settled = PromiseSettledResult<unknown>;

/**
 * Maps `input` through `fn` with at most `concurrency` calls at once and
 * resolves to the results in input order: p-map with real cancellation, at
 * the speed of a hand-written worker loop.
 *
 * Input is pulled lazily: an item is taken from `input` only when a call can
 * start, so at most `concurrency` items are in flight and none wait in a
 * buffer; an infinite async iterable is fine as long as something stops it.
 * Items of a sync iterable that are promises are awaited first. `fn` gets
 * `(item, index, signal)`; `signal` is one signal shared by all calls of this
 * `map` (cheaper than one per call), aborted when the map is cancelled.
 *
 * Errors and cancellation: on the first error (from `fn` or from the input),
 * `map` stops pulling input, aborts `signal` so running calls can stop, waits
 * for every running call to settle, closes the input iterator (calls its
 * `return()`), then rejects with that first error. Errors that follow, like
 * the running calls' `AbortError`s, are dropped. Aborting `options.signal`
 * does the same and rejects with its reason. With `settle: true`, errors of
 * `fn` don't stop anything: `map` resolves to one `PromiseSettledResult` per
 * item (only an error of the input itself, or `options.signal`, still rejects).
 *
 * Note: `map` waits for calls that ignore `signal`; pass it on (to `fetch`,
 * `sleep`, child tasks) so cancellation is prompt.
 *
 * @example
 * ```ts
 * import { map } from "aiokit";
 * const pages = await map(urls, async (url, _i, signal) => (await fetch(url, { signal })).text(), {
 *   concurrency: 16,
 *   rate: { limit: 100, interval: 1_000 }, // and at most 100 starts a second
 * });
 * const settled = await map(ids, loadUser, { concurrency: 4, settle: true });
 * ```
 */
export function map<T, R>(
  input: MapInput<T>,
  fn: MapFn<T, R>,
  options: MapOptions & { readonly settle: true },
): Promise<PromiseSettledResult<Awaited<R>>[]>;
export function map<T, R>(
  input: MapInput<T>,
  fn: MapFn<T, R>,
  options: MapOptions,
): Promise<Awaited<R>[]>;
export function map(
  input: MapInput<unknown>,
  fn: MapFn<unknown, unknown>,
  options: MapOptions,
): Promise<unknown[]> {
  let rate: RateLimiter | undefined;
  try {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Expected map options to be an object like { concurrency }, got ${describe(options)}`,
      );
    }
    expectFunction("`fn`", fn);
    expectNumber("`concurrency`", options.concurrency, {
      min: 1,
      integer: true,
      allowInfinity: true,
    });
    expectSignal(options.signal);
    rate = toRateLimiter(options.rate);
  } catch (error) {
    return Promise.reject(error);
  }
  const outer = options.signal;
  if (outer?.aborted) return Promise.reject(outer.reason);
  const settle = options.settle === true;
  const concurrency = options.concurrency;
  if (Array.isArray(input)) return mapSync(input, undefined, fn, concurrency, settle, rate, outer);
  if (input !== null && typeof input === "object") {
    const sync = (input as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof sync === "function") {
      return mapSync(undefined, sync.call(input), fn, concurrency, settle, rate, outer);
    }
    const async = (input as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
    if (typeof async === "function") {
      return mapAsync(async.call(input), fn, concurrency, settle, rate, outer);
    }
  }
  if (typeof input === "string") {
    return mapSync(
      undefined,
      (input as string)[Symbol.iterator](),
      fn,
      concurrency,
      settle,
      rate,
      outer,
    );
  }
  return Promise.reject(
    new TypeError(`Expected \`input\` to be an iterable or async iterable, got ${describe(input)}`),
  );
}

function siblingFailed(error: unknown): CancelledError {
  return new CancelledError("Cancelled because another call of map failed", { cause: error });
}

/**
 * Arrays and sync iterables: C workers, each pulling the next item itself
 * (pulling is synchronous, so no locking): the hand-written loop, plus
 * cancellation. One closure set per call, nothing allocated per item beyond
 * what `fn` and `await` need.
 */
function mapSync(
  array: readonly unknown[] | undefined,
  iterator: Iterator<unknown> | undefined,
  fn: MapFn<unknown, unknown>,
  concurrency: number,
  settle: boolean,
  rate: RateLimiter | undefined,
  outer: AbortSignal | undefined,
): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    // The scope links `outer` and decides the first cancellation (its abort
    // reaches fail() through onCancel). map keeps its own count of workers:
    // it settles without the ones parked on an input promise once stopped,
    // which is not the scope's "wait for all".
    const scope = new Scope(outer, (reason) => fail(reason, reason));
    const signal = scope.signal;
    const length = array === undefined ? 0 : array.length;
    const results: unknown[] = array === undefined ? [] : new Array(length);
    let next = 0;
    let workers = 0;
    let exhausted = false; // the iterator said done (or threw): don't call return()
    let stopped = false;
    let finished = false;
    let error: unknown;
    // Workers awaiting an item of the input that is a promise. Once stopped,
    // they are not waited for: an input promise can't be cancelled and may
    // never settle (see fail).
    let onInput = 0;

    const fail = (reason: unknown, cancel: unknown): void => {
      if (stopped) return;
      stopped = true;
      error = reason;
      scope.cancel(cancel);
      if (workers === onInput) finish();
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      scope.close(noop); // only unlinks `outer`: nothing was entered
      if (!stopped) {
        resolve(results);
        return;
      }
      if (iterator !== undefined && !exhausted) {
        try {
          iterator.return?.();
        } catch {
          // The first error wins; a failing return() can't replace it.
        }
      }
      reject(error);
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        if (stopped) break;
        let index: number;
        let item: unknown;
        if (array !== undefined) {
          index = next;
          if (index >= length) break;
          next = index + 1;
          item = array[index];
        } else {
          let step: IteratorResult<unknown>;
          try {
            step = (iterator as Iterator<unknown>).next();
          } catch (e) {
            exhausted = true;
            fail(e, siblingFailed(e));
            break;
          }
          if (step.done === true) {
            exhausted = true;
            break;
          }
          index = next++;
          results.push(undefined);
          item = step.value;
        }
        try {
          if (isThenable(item)) {
            onInput++;
            try {
              item = await item;
            } finally {
              onInput--;
            }
            if (finished) return; // abandoned: map has settled without this worker
            if (stopped) break;
          }
          if (rate !== undefined && !rate.tryAcquire()) await rate.acquire({ signal });
          let value = fn(item, index, signal);
          if (isThenable(value)) value = await value;
          results[index] = settle ? ({ status: "fulfilled", value } satisfies Settled) : value;
        } catch (e) {
          if (stopped) break;
          if (!settle) {
            fail(e, siblingFailed(e));
            break;
          }
          results[index] = { status: "rejected", reason: e } satisfies Settled;
        }
      }
      if (--workers === 0 || (stopped && workers === onInput)) finish();
    };

    // Count spawns, not live workers: a worker may finish before the next spawn.
    const most = array === undefined ? concurrency : Math.min(concurrency, length);
    for (let spawned = 0; spawned < most && !exhausted && !stopped; spawned++) {
      workers++;
      void worker();
    }
    if (workers === 0) finish();
  });
}

/**
 * Async iterables: one pump pulls (an async iterator is pulled one `next()`
 * at a time) while fewer than C calls run, and starts a runner per item.
 */
function mapAsync(
  iterator: AsyncIterator<unknown>,
  fn: MapFn<unknown, unknown>,
  concurrency: number,
  settle: boolean,
  rate: RateLimiter | undefined,
  outer: AbortSignal | undefined,
): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    // The scope links `outer` and decides the first cancellation (its abort
    // reaches fail() through onCancel). map keeps its own count of workers:
    // it settles without the ones parked on an input promise once stopped,
    // which is not the scope's "wait for all".
    const scope = new Scope(outer, (reason) => fail(reason, reason));
    const signal = scope.signal;
    const results: unknown[] = [];
    let next = 0;
    let active = 0;
    let pumping = true;
    let pulling = false;
    let exhausted = false; // done, or next() threw: don't call return()
    let closing: Promise<unknown> | undefined;
    let stopped = false;
    let finished = false;
    let error: unknown;
    let wake: (() => void) | undefined;

    const close = (): void => {
      if (closing !== undefined || exhausted) return;
      try {
        closing = Promise.resolve(iterator.return?.()).catch(noop);
      } catch {
        closing = Promise.resolve();
      }
    };
    const fail = (reason: unknown, cancel: unknown): void => {
      if (stopped) return;
      stopped = true;
      error = reason;
      scope.cancel(cancel);
      // A pull may hang (an idle socket, a paused producer). Closing the
      // iterator unblocks a hand-written one; an async generator's return()
      // queues behind its pending next(), so the pump is not waited for: the
      // pull settles in the background and the queued return() then closes
      // the generator.
      if (pulling) {
        close();
        pumping = false;
      }
      if (wake !== undefined) {
        const w = wake;
        wake = undefined;
        w();
      }
      maybeFinish();
    };
    const maybeFinish = (): void => {
      if (pumping || active > 0 || finished) return;
      finished = true;
      scope.close(noop); // only unlinks `outer`: nothing was entered
      if (!stopped) {
        resolve(results);
        return;
      }
      close();
      const rejectWithError = (): void => reject(error);
      // With a pull still pending, return() may wait on it forever: don't.
      if (closing === undefined || pulling) rejectWithError();
      else void closing.then(rejectWithError);
    };
    const run = async (item: unknown, index: number): Promise<void> => {
      try {
        if (rate !== undefined && !rate.tryAcquire()) await rate.acquire({ signal });
        let value = fn(item, index, signal);
        if (isThenable(value)) value = await value;
        if (!stopped) {
          results[index] = settle ? ({ status: "fulfilled", value } satisfies Settled) : value;
        }
      } catch (e) {
        if (!stopped) {
          if (settle) results[index] = { status: "rejected", reason: e } satisfies Settled;
          else fail(e, siblingFailed(e));
        }
      }
      active--;
      if (wake !== undefined) {
        const w = wake;
        wake = undefined;
        w();
      }
      maybeFinish();
    };
    const pump = async (): Promise<void> => {
      for (;;) {
        if (active >= concurrency && !stopped) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        if (stopped) break;
        let step: IteratorResult<unknown>;
        pulling = true;
        try {
          step = await iterator.next();
        } catch (e) {
          pulling = false;
          exhausted = true;
          fail(e, siblingFailed(e));
          break;
        }
        pulling = false;
        if (step.done === true) {
          exhausted = true;
          break;
        }
        if (stopped) break; // pulled while failing: dropped
        active++;
        const index = next++;
        results.push(undefined);
        void run(step.value, index);
      }
      pumping = false;
      maybeFinish();
    };

    void pump();
  });
}
