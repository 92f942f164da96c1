import { describe, expectSignal } from "../_internal/describe.js";
import { Scope } from "../_internal/scope.js";
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

/**
 * One gather call's state: shared by every item, so an item costs one closure.
 * The scope decides the parent link, the cancel of the rest and the wait for
 * all; this class only decides what the caller gets.
 */
class Gather {
  readonly results: unknown[];
  readonly scope: Scope;
  failed = false;
  firstError: unknown;

  constructor(
    n: number,
    readonly settle: boolean,
    readonly outer: AbortSignal | undefined,
    readonly resolve: (results: unknown[]) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.results = new Array<unknown>(n);
    this.scope = new Scope(outer);
  }

  start(list: readonly Awaitable<unknown>[]): void {
    const scope = this.scope;
    // Every function gets the shared signal (one controller per call): one that
    // declares no parameter may still read it through rest parameters or
    // `arguments`, as wrappers do.
    const signal = scope.signal;
    const onRejected = (error: unknown): void => this.fail(error);
    // The count taken at the call: an item may push more into the caller's array.
    const n = this.results.length;
    for (let i = 0; i < n; i++) {
      const item = list[i];
      scope.enter();
      let value: unknown;
      try {
        value = typeof item === "function" ? item(signal) : item;
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
            scope.exit();
          }, onRejected);
        }
      } else {
        this.settleOne(i, true, value);
      }
    }
    scope.close(() => this.finish());
  }

  settleOne(i: number, ok: boolean, value: unknown): void {
    if (this.settle) {
      this.results[i] = ok ? { status: "fulfilled", value } : { status: "rejected", reason: value };
      this.scope.exit();
    } else if (ok) {
      this.results[i] = value;
      this.scope.exit();
    } else {
      this.fail(value);
    }
  }

  fail(error: unknown): void {
    if (!this.failed && !this.scope.parentAborted) {
      this.failed = true;
      this.firstError = error;
      this.scope.cancel(
        new CancelledError("Cancelled because another item of gather() failed", { cause: error }),
      );
    }
    this.scope.exit();
  }

  finish(): void {
    // The parent's abort wins over a failure, even one that came first.
    if (this.scope.parentAborted) this.reject(this.outer?.reason);
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
