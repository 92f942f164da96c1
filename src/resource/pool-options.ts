/**
 * What a {@link Pool} is told: its options and what it reports, and the one
 * place they are checked ({@link poolSettings}).
 * @module
 */
import { describe, expectFunction, expectNumber } from "../_internal/describe.js";

/** Which of the pool's callbacks failed, as told to {@link PoolOptions.onError}. */
export type PoolOperation = "create" | "validate" | "destroy";

/** Options of {@link Pool}. Times are milliseconds. */
export interface PoolOptions<T> {
  /**
   * Makes a resource. An acquirer that finds room creates for itself, and
   * `signal` aborts when it gives up (its signal, `acquireTimeout`); when room
   * frees up while others wait, the pool creates for the first in line, and
   * `signal` aborts only when the pool closes. A resource made after its
   * acquirer left goes to the next one (or is destroyed once closed).
   */
  readonly create: (signal: AbortSignal) => T | PromiseLike<T>;
  /** Tears a resource down. Its errors go to `onError`; the resource counts as destroyed either way. */
  readonly destroy: (value: T) => unknown;
  /**
   * Checks an idle resource before lending it; `false` (or a throw, which also
   * goes to `onError`) destroys it and the acquirer gets another one. Fresh
   * resources are not validated.
   */
  readonly validate?: ((value: T) => boolean | PromiseLike<boolean>) | undefined;
  /** Idle eviction never shrinks the pool below this (default 0). The pool does not create ahead of demand. */
  readonly min?: number | undefined;
  /** Most resources that exist at once, lent or idle or being created (an integer from 1). */
  readonly max: number;
  /** Destroy a resource after it has been idle this long, down to `min` (default Infinity: never). */
  readonly idleTimeout?: number | undefined;
  /** `acquire()` rejects with a `TimeoutError` if it has no lease after this long (default Infinity). */
  readonly acquireTimeout?: number | undefined;
  /** Destroy a resource when it comes back after this many leases (default Infinity). */
  readonly maxUses?: number | undefined;
  /** `acquire()` rejects with a {@link PoolOverflowError} rather than wait behind this many waiters (default Infinity). */
  readonly maxWaiting?: number | undefined;
  /**
   * How many more times to call `create` after it fails, for the same acquirer
   * (default 0). Infinity (until the acquirer gives up) needs a `createRetryDelay`.
   */
  readonly createRetries?: number | undefined;
  /** Wait this long between such retries (default 0). */
  readonly createRetryDelay?: number | undefined;
  /**
   * Told about errors that reach no caller: every `destroy` failure, `validate`
   * throwing, `create` failures that are retried or whose acquirer left.
   * Default: ignored, as generic-pool and tarn do without listeners. It must
   * not throw (if it does, that error is ignored).
   */
  readonly onError?: ((error: unknown, operation: PoolOperation) => void) | undefined;
}

/** Options of {@link Pool.acquire} and {@link Pool.use}. */
export interface AcquireOptions {
  /** Aborting it gives up the wait: the acquire rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Pool.close}. */
export interface PoolCloseOptions {
  /**
   * Stops waiting for leases to come back: `close()` rejects with
   * `signal.reason`, and the pool still destroys each resource as it returns.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A snapshot of a pool's counters, from {@link Pool.stats}. */
export interface PoolStats {
  /** Resources that exist: idle + borrowed (not those being created or validated). */
  readonly size: number;
  /** Idle resources, ready to lend. */
  readonly available: number;
  /** Resources lent out now. */
  readonly borrowed: number;
  /** `acquire()` calls waiting for a lease (queued, or having one created or validated). */
  readonly waiting: number;
  /**
   * The same as `waiting`: its old spelling (one spelling per counter, see
   * CONTRIBUTING.md). Not enumerable, so `JSON.stringify(pool.stats)` shows
   * `waiting` only.
   * @deprecated Read `waiting`; `pending` goes in 0.3.0.
   */
  readonly pending: number;
  /** Resources created so far. */
  readonly created: number;
  /** Resources destroyed so far (a `destroy` that failed counts). */
  readonly destroyed: number;
}

/** @internal The options of a pool, checked and with their defaults. */
export interface PoolSettings<T> {
  readonly create: (signal: AbortSignal) => T | PromiseLike<T>;
  readonly destroy: (value: T) => unknown;
  readonly validate: ((value: T) => boolean | PromiseLike<boolean>) | undefined;
  readonly onError: ((error: unknown, operation: PoolOperation) => void) | undefined;
  readonly min: number;
  readonly max: number;
  readonly idleTimeout: number;
  readonly acquireTimeout: number;
  readonly maxUses: number;
  readonly maxWaiting: number;
  readonly createRetries: number;
  readonly createRetryDelay: number;
}

/**
 * @internal Checks a pool's options and fills in the defaults.
 * @throws TypeError or RangeError for a bad option, naming it and the value received.
 */
export function poolSettings<T>(options: PoolOptions<T>): PoolSettings<T> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the pool options to be an object, got ${describe(options)}`);
  }
  const { create, destroy, validate, onError } = options;
  expectFunction("`create`", create);
  expectFunction("`destroy`", destroy);
  if (validate !== undefined) expectFunction("`validate`", validate);
  if (onError !== undefined) expectFunction("`onError`", onError);
  const {
    max,
    min = 0,
    idleTimeout = Number.POSITIVE_INFINITY,
    acquireTimeout = Number.POSITIVE_INFINITY,
    maxUses = Number.POSITIVE_INFINITY,
    maxWaiting = Number.POSITIVE_INFINITY,
    createRetries = 0,
    createRetryDelay = 0,
  } = options;
  expectNumber("`max`", max, { min: 1, integer: true, allowInfinity: true });
  expectNumber("`min`", min, { min: 0, integer: true });
  if (min > max) {
    throw new RangeError(`Expected \`min\` to be at most \`max\` (${max}), got ${describe(min)}`);
  }
  expectNumber("`idleTimeout`", idleTimeout, { allowInfinity: true });
  expectNumber("`acquireTimeout`", acquireTimeout, { allowInfinity: true });
  expectNumber("`maxUses`", maxUses, { min: 1, integer: true, allowInfinity: true });
  expectNumber("`maxWaiting`", maxWaiting, { min: 0, integer: true, allowInfinity: true });
  expectNumber("`createRetries`", createRetries, { integer: true, allowInfinity: true });
  expectNumber("`createRetryDelay`", createRetryDelay);
  if (createRetries === Number.POSITIVE_INFINITY && createRetryDelay === 0) {
    // Endless retries with no pause would spin without ever letting a signal or timer in.
    throw new RangeError(
      "Expected `createRetryDelay` to be above 0 when `createRetries` is Infinity, got 0 (number)",
    );
  }
  return {
    create,
    destroy,
    validate,
    onError,
    min,
    max,
    idleTimeout,
    acquireTimeout,
    maxUses,
    maxWaiting,
    createRetries,
    createRetryDelay,
  };
}
