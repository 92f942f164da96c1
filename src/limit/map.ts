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
  const job: MapJob = {
    fn,
    concurrency: options.concurrency,
    settle: options.settle === true,
    rate,
    outer,
  };
  if (Array.isArray(input)) return mapSync(input, undefined, job);
  if (input !== null && typeof input === "object") {
    const sync = (input as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof sync === "function") return mapSync(undefined, sync.call(input), job);
    const async = (input as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
    if (typeof async === "function") return mapAsync(async.call(input), job);
  }
  if (typeof input === "string") {
    return mapSync(undefined, (input as string)[Symbol.iterator](), job);
  }
  return Promise.reject(
    new TypeError(`Expected \`input\` to be an iterable or async iterable, got ${describe(input)}`),
  );
}

/** One map call's checked arguments. */
interface MapJob {
  readonly fn: MapFn<unknown, unknown>;
  readonly concurrency: number;
  readonly settle: boolean;
  readonly rate: RateLimiter | undefined;
  readonly outer: AbortSignal | undefined;
}

/**
 * One map call, shared by both paths below: its scope (which links `outer`,
 * decides the first cancellation and waits for the workers), the results,
 * the first error and what one call of `fn` leaves behind.
 */
class MapRun {
  readonly fn: MapFn<unknown, unknown>;
  readonly settle: boolean;
  readonly rate: RateLimiter | undefined;
  readonly scope: Scope;
  readonly signal: AbortSignal;
  readonly results: unknown[];
  /** Failed or cancelled: pull nothing more, start nothing more. */
  stopped = false;
  error: unknown;

  /** `onStop` runs once, when the scope is cancelled (for whatever reason), after its signal's listeners. */
  constructor(job: MapJob, length: number, onStop: (() => void) | undefined) {
    this.fn = job.fn;
    this.settle = job.settle;
    this.rate = job.rate;
    this.results = length === 0 ? [] : new Array(length);
    this.scope = new Scope(job.outer, (reason) => {
      if (!this.stopped) {
        this.stopped = true; // cancelled by `outer`: reject with its reason
        this.error = reason;
      }
      onStop?.();
    });
    this.signal = this.scope.signal;
  }

  /** Starts `fn` on one item, after the rate limiter if any: its value, or a promise of it. */
  start(item: unknown, index: number): unknown {
    const rate = this.rate;
    if (rate !== undefined && !rate.tryAcquire()) {
      return rate.acquire({ signal: this.signal }).then(() => this.fn(item, index, this.signal));
    }
    return this.fn(item, index, this.signal);
  }

  fulfilled(index: number, value: unknown): void {
    this.results[index] = this.settle ? ({ status: "fulfilled", value } satisfies Settled) : value;
  }

  /** An item failed (its call, or its input promise); returns whether its worker should stop. */
  rejected(index: number, error: unknown): boolean {
    if (this.stopped) return true;
    if (!this.settle) {
      this.fail(error);
      return true;
    }
    this.results[index] = { status: "rejected", reason: error } satisfies Settled;
    return false;
  }

  /** The first error stops the map: the others are cancelled with a CancelledError pointing at it. */
  fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.error = error;
    this.scope.cancel(
      new CancelledError("Cancelled because another call of map failed", { cause: error }),
    );
  }
}

/**
 * Arrays and sync iterables: C workers, each pulling the next item itself
 * (pulling is synchronous, so no locking): the hand-written loop, plus
 * cancellation. One closure set per call, nothing allocated per item beyond
 * what `fn` and `await` need. Each worker is an item of the scope; one
 * awaiting an input item that is a promise is parked (an input promise can't
 * be cancelled and may never settle, so it is not waited for once stopped).
 */
function mapSync(
  array: readonly unknown[] | undefined,
  iterator: Iterator<unknown> | undefined,
  job: MapJob,
): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    const length = array === undefined ? 0 : array.length;
    const run = new MapRun(job, length, undefined);
    const scope = run.scope;
    const results = run.results;
    let next = 0;
    let exhausted = false; // the iterator said done (or threw): don't call return()

    const finish = (): void => {
      if (!run.stopped) {
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
      reject(run.error);
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        if (run.stopped) break;
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
            run.fail(e);
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
            scope.park();
            try {
              item = await item;
            } finally {
              scope.unpark();
            }
            // Stopped meanwhile: the map may have settled without this worker.
            if (run.stopped) break;
          }
          let value = run.start(item, index);
          if (isThenable(value)) value = await value;
          run.fulfilled(index, value);
        } catch (e) {
          if (run.rejected(index, e)) break;
        }
      }
      scope.exit();
    };

    const most = array === undefined ? job.concurrency : Math.min(job.concurrency, length);
    for (let spawned = 0; spawned < most && !exhausted && !run.stopped; spawned++) {
      scope.enter();
      void worker();
    }
    scope.close(finish);
  });
}

/**
 * Async iterables: one pump pulls (an async iterator is pulled one `next()`
 * at a time) while fewer than C calls run, and starts a runner per item. The
 * pump and the runners are the scope's items; the pump is parked while it
 * pulls (a pull may hang: an idle socket, a paused producer), so a failure
 * does not wait for it.
 */
function mapAsync(iterator: AsyncIterator<unknown>, job: MapJob): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    let pulling = false;
    let exhausted = false; // done, or next() threw: don't call return()
    let closing: Promise<unknown> | undefined;
    let wake: (() => void) | undefined;

    const close = (): void => {
      if (closing !== undefined || exhausted) return;
      try {
        closing = Promise.resolve(iterator.return?.()).catch(noop);
      } catch {
        closing = Promise.resolve();
      }
    };
    const wakePump = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    // Closing the iterator unblocks a hand-written one stuck in a pull; an
    // async generator's return() queues behind its pending next(), so the
    // pull settles in the background and the queued return() then closes it.
    const onStop = (): void => {
      if (pulling) close();
      wakePump();
    };
    const run = new MapRun(job, 0, onStop);
    const concurrency = job.concurrency;
    const scope = run.scope;
    const results = run.results;
    let next = 0;

    const finish = (): void => {
      if (!run.stopped) {
        resolve(results);
        return;
      }
      close();
      const rejectWithError = (): void => reject(run.error);
      // With a pull still pending, return() may wait on it forever: don't.
      if (closing === undefined || pulling) rejectWithError();
      else void closing.then(rejectWithError);
    };
    const runOne = async (item: unknown, index: number): Promise<void> => {
      try {
        let value = run.start(item, index);
        if (isThenable(value)) value = await value;
        run.fulfilled(index, value);
      } catch (e) {
        run.rejected(index, e);
      }
      scope.exit();
      wakePump();
    };
    const pump = async (): Promise<void> => {
      for (;;) {
        // The pump is one of the running items: more than C means C calls run.
        if (scope.running > concurrency && !run.stopped) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        if (run.stopped) break;
        let step: IteratorResult<unknown>;
        pulling = true;
        scope.park();
        try {
          step = await iterator.next();
        } catch (e) {
          pulling = false;
          scope.unpark();
          exhausted = true;
          run.fail(e);
          break;
        }
        pulling = false;
        scope.unpark();
        if (step.done === true) {
          exhausted = true;
          break;
        }
        if (run.stopped) break; // pulled while failing: dropped
        const index = next++;
        results.push(undefined);
        scope.enter();
        void runOne(step.value, index);
      }
      scope.exit();
    };

    scope.enter();
    void pump();
    scope.close(finish);
  });
}
