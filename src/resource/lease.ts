/**
 * A {@link Lease}: one loan of a pool's resource, and the only way back into
 * the pool (`release()` or `destroy()` hand the resource to the function the
 * pool gave the lease).
 * @module
 */
import { resolved } from "../_internal/thenable.js";
import { LeaseReleasedError } from "./pool-errors.js";

/** @internal A resource the pool owns, with its bookkeeping. */
export interface PoolSlot<T> {
  readonly value: T;
  /** Leases of it so far. */
  uses: number;
  /** When it last became idle, on aiokit's clock (only kept when `idleTimeout` is finite). */
  idleSince: number;
  /** Not lent before: skips `validate`. */
  fresh: boolean;
}

/**
 * One loan of a resource from a {@link Pool}. Read the resource as `value`;
 * give it back with `release()`, or `destroy()` it when it is broken. With
 * `await using lease = await pool.acquire()`, it goes back on every path.
 *
 * `release()` and `destroy()` are idempotent: after the first of them, both do
 * nothing (and return the first call's promise). Reading `value` after that
 * throws a {@link LeaseReleasedError}, since the resource may already be lent
 * to someone else.
 *
 * @example
 * ```ts
 * {
 *   await using lease = await pool.acquire({ signal });
 *   try {
 *     await lease.value.query("select 1");
 *   } catch (error) {
 *     await lease.destroy(); // broken connection: don't hand it to anyone else
 *     throw error;
 *   }
 * } // released here (a no-op after destroy)
 * ```
 */
export class Lease<T> implements AsyncDisposable {
  #slot: PoolSlot<T> | undefined;
  readonly #end: (slot: PoolSlot<T>, destroy: boolean) => Promise<void>;
  #ended: Promise<void> | undefined;
  #destroyed = false;

  private constructor(
    slot: PoolSlot<T>,
    end: (slot: PoolSlot<T>, destroy: boolean) => Promise<void>,
  ) {
    this.#slot = slot;
    this.#end = end;
  }

  /** @internal Leases are made by the pool. */
  static _create<T>(
    slot: PoolSlot<T>,
    end: (slot: PoolSlot<T>, destroy: boolean) => Promise<void>,
  ): Lease<T> {
    return new Lease(slot, end);
  }

  /** @internal The resource of a lease still active. */
  static _peek<T>(lease: Lease<T>): PoolSlot<T> | undefined {
    return lease.#slot;
  }

  /** @internal Takes the resource back from a lease no caller received. */
  static _revoke<T>(lease: Lease<T>): PoolSlot<T> | undefined {
    const slot = lease.#slot;
    lease.#slot = undefined;
    return slot;
  }

  /**
   * The borrowed resource.
   * @throws LeaseReleasedError once the lease was released or destroyed.
   */
  get value(): T {
    const slot = this.#slot;
    if (slot === undefined) {
      throw new LeaseReleasedError(
        `Cannot read the value of a lease: it was ${this.#destroyed ? "destroyed" : "released"}`,
      );
    }
    return slot.value;
  }

  /** True once `release()` or `destroy()` was called. */
  get released(): boolean {
    return this.#slot === undefined;
  }

  /**
   * Gives the resource back: to the first waiter, else to the idle set (or to
   * `destroy` when the pool is closed or it reached `maxUses`). Resolves at
   * once; never rejects.
   */
  release(): Promise<void> {
    const slot = this.#slot;
    if (slot === undefined) return this.#ended ?? resolved;
    this.#slot = undefined;
    this.#ended = this.#end(slot, false);
    return this.#ended;
  }

  /**
   * Destroys the resource instead of giving it back (it is broken), which
   * frees its place for a new one. Resolves when `destroy` has finished; never
   * rejects (its errors go to `onError`).
   */
  destroy(): Promise<void> {
    const slot = this.#slot;
    if (slot === undefined) return this.#ended ?? resolved;
    this.#slot = undefined;
    this.#destroyed = true;
    this.#ended = this.#end(slot, true);
    return this.#ended;
  }

  /** `await using lease = await pool.acquire()`: {@link Lease.release} at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** `<Lease active>` or `<Lease released>`, for logs. */
  toString(): string {
    const state = this.#slot !== undefined ? "active" : this.#destroyed ? "destroyed" : "released";
    return `<Lease ${state}>`;
  }
}
