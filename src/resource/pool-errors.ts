/**
 * Errors of {@link Pool}, by cause. (An acquire that runs out of time rejects
 * with the core's `TimeoutError`.)
 * @module
 */
import type { ErrorOptions } from "../errors.js";

/**
 * Rejection of `pool.acquire()` and `pool.use()` once the pool is closing or
 * closed, including for acquirers that were waiting when `close()` was called.
 * (trio's `ClosedResourceError`: you closed it.)
 *
 * @example
 * ```ts
 * import { Pool, PoolClosedError } from "aiokit";
 * const pool = new Pool({ create: () => ({}), destroy: () => {}, max: 1 });
 * await pool.close();
 * await pool.acquire().catch((e) => console.log(e instanceof PoolClosedError)); // true
 * ```
 */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
  constructor(message = "Cannot acquire from the pool: it is closed", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Rejection of `pool.acquire()` when it would have to wait while `maxWaiting`
 * acquirers already wait: load shedding instead of an ever longer queue.
 *
 * @example
 * ```ts
 * import { Pool, PoolOverflowError } from "aiokit";
 * const pool = new Pool({ create: () => ({}), destroy: () => {}, max: 1, maxWaiting: 0 });
 * const lease = await pool.acquire();
 * await pool.acquire().catch((e) => console.log(e instanceof PoolOverflowError)); // true
 * ```
 */
export class PoolOverflowError extends Error {
  override readonly name = "PoolOverflowError";
  /** The pool's `maxWaiting`. */
  readonly maxWaiting: number;
  constructor(maxWaiting: number, message?: string, options?: ErrorOptions) {
    super(
      message ??
        `Cannot wait for a resource: ${maxWaiting} acquirer${maxWaiting === 1 ? " is" : "s are"} already waiting (maxWaiting is ${maxWaiting})`,
      options,
    );
    this.maxWaiting = maxWaiting;
  }
}

/**
 * Thrown when reading `lease.value` after the lease was released or destroyed:
 * the resource may already belong to someone else. A `ReferenceError`, as the
 * TC39 proposal throws for a disposed stack.
 *
 * @example
 * ```ts
 * const lease = await pool.acquire();
 * await lease.release();
 * lease.value; // throws LeaseReleasedError
 * ```
 */
export class LeaseReleasedError extends ReferenceError {
  override readonly name = "LeaseReleasedError";
  constructor(
    message = "Cannot read the value of a lease: it was released",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
