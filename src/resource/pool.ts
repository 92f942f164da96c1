import { link, noop, onAbort } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import { WaitQueue } from "../_internal/wait-queue.js";
import { type Clock, getClock, type TimerHandle } from "../clock.js";
import { TimeoutError } from "../errors.js";
import { sleep } from "../task/sleep.js";
import { LeaseReleasedError, PoolClosedError, PoolOverflowError } from "./pool-errors.js";

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
  readonly pending: number;
  /** Resources created so far. */
  readonly created: number;
  /** Resources destroyed so far (a `destroy` that failed counts). */
  readonly destroyed: number;
}

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
 * What a queued acquirer is woken with: a lease, or (when a create for the
 * queue failed) a rejected promise, which its promise adopts.
 */
type Grant<T> = Lease<T> | Promise<Lease<T>>;

type PoolState = "open" | "closing" | "closed";

const resolved: Promise<void> = Promise.resolve();

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

/**
 * A pool of reusable resources (connections, sessions, workers) with at most
 * `max` alive at once: generic-pool and tarn rebuilt on `AbortSignal` and
 * `await using`. Think of a bike-share dock: take a bike if one is docked,
 * else a new one is made while the fleet is under `max`, else you queue; the
 * first in the queue gets the next bike returned.
 *
 * - Waiters are served first come, first served. A waiter whose signal aborts,
 *   or whose `acquireTimeout` runs out, leaves the queue at once and never
 *   receives a resource; a resource handed to it in the same tick goes to the
 *   next waiter or back to the idle set, never lost.
 * - A failing `create` (after `createRetries`) rejects that acquirer only: its
 *   room goes back to the pool and the next waiter gets to try.
 * - `validate` checks idle resources on borrow; idle ones are destroyed after
 *   `idleTimeout` down to `min`; one is destroyed after `maxUses` leases.
 * - `close()` stops lending, waits for the leases to come back and destroys
 *   everything. It is idempotent; `await using pool = new Pool(…)` calls it.
 *
 * Note: a lease that is never released keeps its room, and `close()` waits
 * for it; give `close()` a signal to bound that wait. Errors of `destroy` and
 * `validate` never reject a caller: pass `onError` to see them.
 *
 * @example
 * ```ts
 * import { Pool } from "aiokit";
 * const pool = new Pool({
 *   create: (signal) => connect(url, { signal }),
 *   destroy: (conn) => conn.close(),
 *   validate: (conn) => conn.isAlive(),
 *   max: 10,
 *   idleTimeout: 30_000,
 *   acquireTimeout: 5_000,
 * });
 * {
 *   await using lease = await pool.acquire({ signal });
 *   await lease.value.query("select 1");
 * } // released here, whatever happened
 * const rows = await pool.use((conn) => conn.query("select 2"));
 * await pool.close();
 * ```
 */
export class Pool<T> implements AsyncDisposable {
  readonly #create: (signal: AbortSignal) => T | PromiseLike<T>;
  readonly #destroy: (value: T) => unknown;
  readonly #validate: ((value: T) => boolean | PromiseLike<boolean>) | undefined;
  readonly #onError: ((error: unknown, operation: PoolOperation) => void) | undefined;
  readonly #min: number;
  readonly #max: number;
  readonly #idleTimeout: number;
  readonly #acquireTimeout: number;
  readonly #maxUses: number;
  readonly #maxWaiting: number;
  readonly #createRetries: number;
  readonly #createRetryDelay: number;
  /** True when a waiter can be woken straight into a lease: no validate, no timeout. */
  readonly #plain: boolean;

  /** Idle resources, most recently returned last (lent LIFO, evicted from the front). */
  readonly #idle: PoolSlot<T>[] = [];
  readonly #queue = new WaitQueue<Grant<T>>();
  /** Room taken out of `max`: idle + borrowed + being created + held by an acquirer not yet lent. */
  #count = 0;
  #borrowed = 0;
  /** `acquire()` calls not settled and not in the queue. */
  #acquiring = 0;
  /** Creates the pool started for its queue (each will serve its first waiter). */
  #queueCreates = 0;
  #created = 0;
  #destroyed = 0;
  #destroying = 0;
  #state: PoolState = "open";
  /** Called by `close()`: creates and validations in progress give up. */
  readonly #onClose = new Set<(reason: unknown) => void>();
  #resolveClosed: (() => void) | undefined;
  #closed: Promise<void> | undefined;
  #evictTimer: TimerHandle | undefined;
  #evictClock: Clock | undefined;
  /** One function for every lease of this pool to end through. */
  readonly #endLease = (slot: PoolSlot<T>, destroy: boolean): Promise<void> => {
    this.#borrowed--;
    slot.fresh = false;
    if (destroy) return this.#destroySlot(slot, false);
    this.#giveBack(slot);
    return resolved;
  };

  /** @throws TypeError or RangeError for a bad option, naming it and the value received. */
  constructor(options: PoolOptions<T>) {
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
    this.#create = create;
    this.#destroy = destroy;
    this.#validate = validate;
    this.#onError = onError;
    this.#max = max;
    this.#min = min;
    this.#idleTimeout = idleTimeout;
    this.#acquireTimeout = acquireTimeout;
    this.#maxUses = maxUses;
    this.#maxWaiting = maxWaiting;
    this.#createRetries = createRetries;
    this.#createRetryDelay = createRetryDelay;
    this.#plain = validate === undefined && acquireTimeout === Number.POSITIVE_INFINITY;
  }

  /** A fresh snapshot of the pool's counters (see {@link PoolStats}). */
  get stats(): PoolStats {
    return {
      size: this.#idle.length + this.#borrowed,
      available: this.#idle.length,
      borrowed: this.#borrowed,
      pending: this.#queue.size + this.#acquiring,
      created: this.#created,
      destroyed: this.#destroyed,
    };
  }

  /** `"open"`, `"closing"` (waiting for leases and destroys) or `"closed"`. */
  get state(): PoolState {
    return this.#state;
  }

  /**
   * Borrows a resource: an idle one (validated first, if `validate` is set),
   * else a new one while the pool is under `max`, else the next one returned,
   * first come, first served.
   *
   * Cancellation: when `signal` aborts (or `acquireTimeout` runs out, with a
   * `TimeoutError`) the call rejects at once and takes nothing with it: it
   * leaves the queue, a `create` it started gets its signal aborted, and a
   * resource that reaches it anyway goes to the next waiter or back to the
   * pool.
   *
   * @throws (rejects) PoolClosedError once the pool is closing; PoolOverflowError
   *   when `maxWaiting` acquirers already wait; TimeoutError after
   *   `acquireTimeout`; the error of `create` (after `createRetries`).
   */
  acquire(options?: AcquireOptions): Promise<Lease<T>> {
    const signal = options?.signal;
    if (signal !== undefined) {
      try {
        expectSignal(signal);
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    if (this.#state !== "open") return Promise.reject(this.#closedError());
    if (this.#queue.size === 0) {
      // Nobody ahead in line: an idle resource, or room to create one.
      if (this.#validate === undefined) {
        const slot = this.#idle.pop();
        if (slot !== undefined) return Promise.resolve(this.#lend(slot));
      }
      if (this.#idle.length > 0 || this.#count < this.#max) return this.#acquireSlow(signal, false);
    }
    if (this.#queue.size >= this.#maxWaiting) {
      return Promise.reject(new PoolOverflowError(this.#maxWaiting));
    }
    // The hot path of a busy pool: nothing can cancel this waiter, so the
    // queue's promise is the answer (woken with a lease, or a lease's promise).
    if (signal === undefined && this.#plain) {
      return this.#queue.wait(undefined) as Promise<Lease<T>>;
    }
    return this.#acquireSlow(signal, true);
  }

  /**
   * Acquires a resource, runs `fn(value, lease)`, and releases the resource
   * when `fn` settles, however it settles; resolves or rejects as `fn` did.
   * Call `lease.destroy()` inside `fn` for a resource found broken.
   *
   * @example
   * ```ts
   * const user = await pool.use((db) => db.query("select * from users where id = $1", [id]), { signal });
   * ```
   */
  async use<R>(
    fn: (value: T, lease: Lease<T>) => R | PromiseLike<R>,
    options?: AcquireOptions,
  ): Promise<Awaited<R>> {
    expectFunction("`fn`", fn);
    const lease = await this.acquire(options);
    try {
      return await fn(lease.value, lease);
    } finally {
      await lease.release();
    }
  }

  /**
   * Closes the pool: acquirers still waiting reject with
   * {@link PoolClosedError}, new ones too; idle resources are destroyed at once,
   * borrowed ones as their leases come back, and `close()` resolves when every
   * resource is destroyed. Idempotent: every call waits for the same end.
   *
   * Cancellation: aborting `signal` only stops this call's wait (it rejects
   * with `signal.reason`); the pool still closes, destroying each remaining
   * resource as it comes back.
   */
  close(options?: PoolCloseOptions): Promise<void> {
    const signal = options?.signal;
    try {
      expectSignal(signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state === "open") this.#startClosing();
    if (this.#state === "closed") return resolved;
    const closed = this.#closed as Promise<void>;
    if (signal === undefined) return closed;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const off = onAbort(signal, reject);
      void closed.then(() => {
        off();
        resolve();
      });
    });
  }

  /** `await using pool = new Pool(…)`: {@link Pool.close} at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `<Pool open size=3 available=1 borrowed=2 pending=0 max=10>`, for logs. */
  toString(): string {
    const s = this.stats;
    return `<Pool ${this.#state} size=${s.size} available=${s.available} borrowed=${s.borrowed} pending=${s.pending} max=${this.#max}>`;
  }

  /**
   * Every acquire that may be cancelled, validates, or gets its resource at
   * once (creating or validating it). `mustWait`: the caller found no room.
   */
  async #acquireSlow(signal: AbortSignal | undefined, mustWait: boolean): Promise<Lease<T>> {
    this.#acquiring++;
    let waitSignal = signal;
    let timer: TimerHandle | undefined;
    let clock: Clock | undefined;
    let unlink = noop;
    if (this.#acquireTimeout !== Number.POSITIVE_INFINITY) {
      const ms = this.#acquireTimeout;
      const controller = new AbortController();
      clock = getClock();
      timer = clock.setTimer(() => {
        controller.abort(
          new TimeoutError(ms, `Cannot acquire a resource: timed out after ${ms} ms`),
        );
      }, ms);
      unlink = link(signal, controller);
      waitSignal = controller.signal;
    }
    try {
      let lease: Lease<T> | undefined;
      let slot: PoolSlot<T> | undefined;
      if (mustWait) {
        lease = await this.#waitInQueue(waitSignal);
      } else {
        slot = this.#idle.pop();
        if (slot === undefined) {
          this.#count++;
          lease = await this.#createFor(waitSignal);
        }
      }
      for (;;) {
        if (lease !== undefined) {
          this.#checkLease(lease, waitSignal);
          if (this.#validate === undefined || (Lease._peek(lease) as PoolSlot<T>).fresh) {
            return lease;
          }
          slot = this.#unlend(lease);
          lease = undefined;
        }
        const held = slot as PoolSlot<T>;
        this.#checkSlot(held, waitSignal);
        if (await this.#validateFor(held, waitSignal)) {
          this.#checkSlot(held, waitSignal);
          return this.#lend(held);
        }
        // Invalid: validateFor destroyed it but kept its room for us: create instead.
        this.#checkRoom(waitSignal);
        lease = await this.#createFor(waitSignal);
      }
    } finally {
      this.#acquiring--;
      if (timer !== undefined) clock?.clearTimer(timer);
      unlink();
    }
  }

  /** Queues a cancellable acquirer; it leaves the queue as soon as `signal` aborts. */
  async #waitInQueue(signal: AbortSignal | undefined): Promise<Lease<T>> {
    this.#acquiring--; // counted in the queue's size meanwhile
    try {
      return await (this.#queue.wait(signal) as Promise<Lease<T>>);
    } finally {
      this.#acquiring++;
    }
  }

  /** After an await that handed an acquirer `lease`: pass it on and throw if the pool closed or the acquirer gave up. */
  #checkLease(lease: Lease<T>, signal: AbortSignal | undefined): void {
    if (this.#state !== "open") {
      this.#giveBackUnused(lease);
      throw this.#closedError();
    }
    if (signal?.aborted) {
      this.#giveBackUnused(lease);
      throw signal.reason;
    }
  }

  /** The same for a resource held while validating it. */
  #checkSlot(slot: PoolSlot<T>, signal: AbortSignal | undefined): void {
    if (this.#state !== "open") {
      this.#giveBack(slot);
      throw this.#closedError();
    }
    if (signal?.aborted) {
      this.#giveBack(slot);
      throw signal.reason;
    }
  }

  /** The same for room held to create a resource. */
  #checkRoom(signal: AbortSignal | undefined): void {
    if (this.#state !== "open") {
      this.#count--;
      this.#capacityFreed();
      throw this.#closedError();
    }
    if (signal?.aborted) {
      this.#count--;
      this.#capacityFreed();
      throw signal.reason;
    }
  }

  #lend(slot: PoolSlot<T>): Lease<T> {
    slot.uses++;
    this.#borrowed++;
    return Lease._create(slot, this.#endLease);
  }

  /** Undoes `#lend` for a lease no caller received; returns the resource, held but not lent. */
  #unlend(lease: Lease<T>): PoolSlot<T> {
    const slot = Lease._revoke(lease) as PoolSlot<T>;
    slot.uses--;
    this.#borrowed--;
    return slot;
  }

  #giveBackUnused(lease: Lease<T>): void {
    this.#giveBack(this.#unlend(lease));
  }

  /** A resource no one holds: to the first waiter, else idle; destroyed when closing or worn out. */
  #giveBack(slot: PoolSlot<T>): void {
    if (this.#state !== "open" || slot.uses >= this.#maxUses) {
      void this.#destroySlot(slot, false);
      return;
    }
    if (this.#queue.size > 0) {
      this.#queue.wakeOne(this.#lend(slot));
      return;
    }
    slot.fresh = false;
    this.#idle.push(slot);
    if (this.#idleTimeout !== Number.POSITIVE_INFINITY) {
      slot.idleSince = getClock().now();
      if (this.#evictTimer === undefined) this.#scheduleEviction();
    }
  }

  /**
   * Room under `max` came free: create a resource for each waiter no create
   * is already running for (or finish closing).
   */
  #capacityFreed(): void {
    if (this.#state !== "open") {
      this.#checkClosed();
      return;
    }
    while (this.#count < this.#max && this.#queue.size > this.#queueCreates) {
      this.#count++;
      this.#createForQueue();
    }
  }

  /**
   * Creates a resource for whoever is first in line when it is ready; the
   * waiters stay queued meanwhile (so each can still leave). A failure goes
   * to the first waiter then, as its acquire's error.
   */
  #createForQueue(): void {
    this.#queueCreates++;
    const controller = new AbortController();
    const onClose = (reason: unknown): void => controller.abort(reason);
    this.#onClose.add(onClose);
    this.#runCreate(controller.signal).then(
      (value) => {
        this.#onClose.delete(onClose);
        this.#queueCreates--;
        this.#created++;
        this.#giveBack({ value, uses: 0, idleSince: 0, fresh: true });
      },
      (error: unknown) => {
        this.#onClose.delete(onClose);
        this.#queueCreates--;
        this.#count--;
        if (this.#state === "open" && this.#queue.size > 0) {
          this.#queue.wakeOne(Promise.reject(error));
        } else if (error !== controller.signal.reason) {
          this.#report(error, "create");
        }
        this.#capacityFreed();
      },
    );
  }

  /**
   * Destroys a resource. With `keepRoom`, its room under `max` stays taken
   * (for the acquirer that will create a replacement). Never rejects.
   */
  #destroySlot(slot: PoolSlot<T>, keepRoom: boolean): Promise<void> {
    this.#destroying++;
    let result: unknown;
    try {
      result = this.#destroy(slot.value);
    } catch (error) {
      result = Promise.reject(error);
    }
    const done = Promise.resolve(result).then(
      () => this.#destroyDone(),
      (error: unknown) => {
        this.#report(error, "destroy");
        this.#destroyDone();
      },
    );
    if (!keepRoom) {
      this.#count--;
      this.#capacityFreed();
    }
    return done;
  }

  #destroyDone(): void {
    this.#destroying--;
    this.#destroyed++;
    this.#checkClosed();
  }

  /**
   * Creates a resource in room already taken and lends it. Rejects as soon as
   * `signal` aborts or the pool closes (aborting the signal `create` got); a
   * resource made after that goes back to the pool. On failure (after
   * `createRetries`) the room is given back.
   */
  #createFor(signal: AbortSignal | undefined): Promise<Lease<T>> {
    return new Promise<Lease<T>>((resolve, reject) => {
      const controller = new AbortController();
      let waiting = true;
      const giveUp = (reason: unknown): void => {
        if (!waiting) return;
        waiting = false;
        off();
        controller.abort(reason);
        reject(reason);
      };
      const offSignal = onAbort(signal, giveUp);
      this.#onClose.add(giveUp);
      const off = (): void => {
        offSignal();
        this.#onClose.delete(giveUp);
      };
      this.#runCreate(controller.signal).then(
        (value) => {
          this.#created++;
          const slot: PoolSlot<T> = { value, uses: 0, idleSince: 0, fresh: true };
          if (waiting) {
            waiting = false;
            off();
            resolve(this.#lend(slot));
          } else {
            this.#giveBack(slot);
          }
        },
        (error: unknown) => {
          this.#count--;
          if (waiting) {
            waiting = false;
            off();
            reject(error);
          } else if (error !== controller.signal.reason) {
            this.#report(error, "create");
          }
          this.#capacityFreed();
        },
      );
    });
  }

  async #runCreate(signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#create(signal);
      } catch (error) {
        if (attempt >= this.#createRetries || signal.aborted) throw error;
        this.#report(error, "create");
        if (this.#createRetryDelay > 0) await sleep(this.#createRetryDelay, { signal });
      }
    }
  }

  /**
   * Validates a held resource for an acquirer. Resolves true (lend it) or
   * false (it was destroyed, its room kept for the acquirer); rejects as soon
   * as the acquirer gives up or the pool closes, and the resource then goes
   * back or is destroyed when `validate` settles.
   */
  #validateFor(slot: PoolSlot<T>, signal: AbortSignal | undefined): Promise<boolean> {
    const validate = this.#validate as (value: T) => boolean | PromiseLike<boolean>;
    let result: boolean | PromiseLike<boolean>;
    try {
      result = validate(slot.value);
    } catch (error) {
      this.#report(error, "validate");
      void this.#destroySlot(slot, true);
      return Promise.resolve(false);
    }
    if (typeof result !== "object" || result === null) {
      if (!result) void this.#destroySlot(slot, true);
      return Promise.resolve(Boolean(result));
    }
    const pending = result;
    return new Promise<boolean>((resolve, reject) => {
      let waiting = true;
      const giveUp = (reason: unknown): void => {
        if (!waiting) return;
        waiting = false;
        off();
        reject(reason);
      };
      const offSignal = onAbort(signal, giveUp);
      this.#onClose.add(giveUp);
      const off = (): void => {
        offSignal();
        this.#onClose.delete(giveUp);
      };
      Promise.resolve(pending).then(
        (valid) => {
          if (waiting) {
            waiting = false;
            off();
            if (!valid) void this.#destroySlot(slot, true);
            resolve(Boolean(valid));
          } else if (valid) {
            this.#giveBack(slot);
          } else {
            void this.#destroySlot(slot, false);
          }
        },
        (error: unknown) => {
          this.#report(error, "validate");
          if (waiting) {
            waiting = false;
            off();
            void this.#destroySlot(slot, true);
            resolve(false);
          } else {
            void this.#destroySlot(slot, false);
          }
        },
      );
    });
  }

  #scheduleEviction(): void {
    const oldest = this.#idle[0];
    if (oldest === undefined) return;
    const clock = getClock();
    this.#evictClock = clock;
    this.#evictTimer = clock.setTimer(
      () => this.#evict(),
      oldest.idleSince + this.#idleTimeout - clock.now(),
    );
  }

  #evict(): void {
    this.#evictTimer = undefined;
    const now = getClock().now();
    const idle = this.#idle;
    while (this.#count > this.#min) {
      const oldest = idle[0];
      if (oldest === undefined || oldest.idleSince + this.#idleTimeout > now) break;
      idle.shift();
      void this.#destroySlot(oldest, false);
    }
    if (idle.length > 0 && this.#count > this.#min) this.#scheduleEviction();
  }

  #startClosing(): void {
    this.#state = "closing";
    this.#closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    const error = new PoolClosedError("Cannot acquire from the pool: it was closed");
    this.#queue.rejectAll(error);
    for (const giveUp of this.#onClose) giveUp(error);
    if (this.#evictTimer !== undefined) {
      this.#evictClock?.clearTimer(this.#evictTimer);
      this.#evictTimer = undefined;
    }
    for (const slot of this.#idle.splice(0)) void this.#destroySlot(slot, false);
    this.#checkClosed();
  }

  #checkClosed(): void {
    if (this.#state !== "closing" || this.#count !== 0 || this.#destroying !== 0) return;
    this.#state = "closed";
    this.#resolveClosed?.();
  }

  #closedError(): PoolClosedError {
    return new PoolClosedError(`Cannot acquire from the pool: it is ${this.#state}`);
  }

  #report(error: unknown, operation: PoolOperation): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(error, operation);
    } catch {
      // onError must not throw; the pool's bookkeeping must go on regardless.
    }
  }
}
