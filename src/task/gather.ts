import { addAbortListener, removeAbortListener, sharedController } from "../_internal/abort.js";
import { describe, expectSignal } from "../_internal/describe.js";
import { isThenable } from "../_internal/thenable.js";
import { CancelledError } from "../errors.js";

/** Something `gather`, `race` and `asCompleted` can run: a task function (given a signal) or a promise. */
export type Awaitable<T> = ((signal: AbortSignal) => T | PromiseLike<T>) | PromiseLike<T>;

/** The value an {@link Awaitable} produces. */
export type AwaitedOf<A> = A extends (signal: AbortSignal) => infer R ? Awaited<R> : Awaited<A>;

/** Options of {@link gather}. */
export interface GatherOptions {
  /** Aborting it cancels every task function; gather then rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
  /** Collect a `PromiseSettledResult` per item instead of failing fast (asyncio's `return_exceptions=True`). */
  readonly settle?: boolean | undefined;
}

type Results<T extends readonly unknown[]> = { -readonly [K in keyof T]: AwaitedOf<T[K]> };
type SettledResults<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: PromiseSettledResult<AwaitedOf<T[K]>>;
};

/**
 * Runs task functions (and awaits promises) concurrently and resolves to their
 * results in input order: `asyncio.gather` with cancellation. Each function
 * gets one shared `AbortSignal`. On the first failure every function's signal
 * is aborted, gather waits for all of them to settle, then rejects with that
 * first error. With `settle: true` it never fails fast and resolves to a
 * `PromiseSettledResult` per item. A tuple in gives a tuple out.
 *
 * Warning: plain promises cannot be cancelled; they are awaited like the
 * rest, so a promise that never settles keeps the call from returning. Pass
 * task functions, which get the signal.
 *
 * @example
 * ```ts
 * import { gather } from "aiokit";
 * const [user, posts] = await gather([
 *   (signal) => fetch("/user", { signal }).then((r) => r.json() as Promise<User>),
 *   (signal) => fetch("/posts", { signal }).then((r) => r.json() as Promise<Post[]>),
 * ]);
 * const settled = await gather([fetchA, fetchB], { settle: true });
 * ```
 */
export function gather<const T extends readonly Awaitable<unknown>[] | []>(
  items: T,
  options: GatherOptions & { readonly settle: true },
): Promise<SettledResults<T>>;
export function gather<const T extends readonly Awaitable<unknown>[] | []>(
  items: T,
  options?: GatherOptions & { readonly settle?: false | undefined },
): Promise<Results<T>>;
export function gather<const T extends readonly Awaitable<unknown>[] | []>(
  items: T,
  options: GatherOptions,
): Promise<Results<T> | SettledResults<T>>;
export function gather<A extends Awaitable<unknown>>(
  items: Iterable<A>,
  options: GatherOptions & { readonly settle: true },
): Promise<PromiseSettledResult<AwaitedOf<A>>[]>;
export function gather<A extends Awaitable<unknown>>(
  items: Iterable<A>,
  options?: GatherOptions & { readonly settle?: false | undefined },
): Promise<AwaitedOf<A>[]>;
export function gather<A extends Awaitable<unknown>>(
  items: Iterable<A>,
  options: GatherOptions,
): Promise<AwaitedOf<A>[] | PromiseSettledResult<AwaitedOf<A>>[]>;
export function gather(
  items: Iterable<Awaitable<unknown>>,
  options: GatherOptions = {},
): Promise<unknown[]> {
  let list: readonly Awaitable<unknown>[];
  try {
    list = toArray(items, "gather");
    expectSignal(options.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const outer = options.signal;
  if (outer?.aborted) return Promise.reject(outer.reason);
  return new Promise<unknown[]>((resolve, reject) => {
    const run = new Gather(list.length, options.settle === true, outer, resolve, reject);
    run.start(list);
  });
}

/** One gather call's state: shared by every item, so an item costs one closure. */
class Gather {
  readonly results: unknown[];
  remaining: number;
  failed = false;
  firstError: unknown;
  controller: AbortController | undefined;
  outerAborted = false;
  unlink: (() => void) | undefined;

  constructor(
    n: number,
    readonly settle: boolean,
    readonly outer: AbortSignal | undefined,
    readonly resolve: (results: unknown[]) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.results = new Array<unknown>(n);
    this.remaining = n;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = sharedController();
      if (this.outerAborted) this.controller.abort(this.outer?.reason);
      else if (this.failed) this.controller.abort(this.cancelReason());
    }
    return this.controller.signal;
  }

  watchOuter(): void {
    const outer = this.outer;
    if (outer === undefined) return;
    const onAbort = (): void => {
      this.outerAborted = true;
      this.controller?.abort(outer.reason);
    };
    addAbortListener(outer, onAbort);
    this.unlink = () => removeAbortListener(outer, onAbort);
  }

  cancelReason(): CancelledError {
    return new CancelledError("Cancelled because another item of gather() failed", {
      cause: this.firstError,
    });
  }

  start(list: readonly Awaitable<unknown>[]): void {
    this.watchOuter();
    const onRejected = (error: unknown): void => this.fail(error);
    // The count taken at the call: an item may push more into the caller's array.
    const n = this.results.length;
    for (let i = 0; i < n; i++) {
      const item = list[i];
      let value: unknown;
      try {
        // Every function gets the shared signal (one controller per call): one that
        // declares no parameter may still read it through rest parameters or
        // `arguments`, as wrappers do.
        value = typeof item === "function" ? item(this.signal) : item;
        // A native promise calls back once. Adopt any other thenable as a promise
        // would, so one that calls back twice counts once and a throwing `then`
        // fails its item instead of escaping with the other items still running.
        if (!(value instanceof Promise) && isThenable(value)) value = Promise.resolve(value);
      } catch (error) {
        this.settleOne(i, false, error);
        continue;
      }
      if (isThenable(value)) {
        if (this.settle) {
          value.then(
            (v) => this.settleOne(i, true, v),
            (e: unknown) => this.settleOne(i, false, e),
          );
        } else {
          value.then((v) => {
            this.results[i] = v;
            this.done();
          }, onRejected);
        }
      } else {
        this.settleOne(i, true, value);
      }
    }
    if (n === 0) this.done(true);
  }

  settleOne(i: number, ok: boolean, value: unknown): void {
    if (this.settle) {
      this.results[i] = ok ? { status: "fulfilled", value } : { status: "rejected", reason: value };
      this.done();
    } else if (ok) {
      this.results[i] = value;
      this.done();
    } else {
      this.fail(value);
    }
  }

  fail(error: unknown): void {
    if (!this.failed && !this.outerAborted) {
      this.failed = true;
      this.firstError = error;
      this.controller?.abort(this.cancelReason());
    }
    this.done();
  }

  done(empty = false): void {
    if (!empty && --this.remaining > 0) return;
    this.unlink?.();
    if (this.outerAborted) this.reject(this.outer?.reason);
    else if (this.failed) this.reject(this.firstError);
    else this.resolve(this.results);
  }
}

/** @internal Copies an iterable of work into an array, with a clear error for anything else. */
export function toArray<T>(items: Iterable<T>, fn: string): readonly T[] {
  if (Array.isArray(items)) return items;
  if (items == null || typeof (items as Partial<Iterable<T>>)[Symbol.iterator] !== "function") {
    throw new TypeError(
      `Expected the items of ${fn}() to be an array or an iterable, got ${describe(items)}`,
    );
  }
  return Array.from(items);
}
