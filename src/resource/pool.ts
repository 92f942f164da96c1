/**
 * The {@link Pool}: lending, giving back, room under `max`, the queue of
 * acquirers, closing. Its lease is in lease.ts, its options in
 * pool-options.ts, idle eviction in idle-slots.ts, the calls of the user's
 * callbacks in pool-work.ts.
 * @module
 */
import { link, noop } from "../_internal/abort.js";
import { expectFunction, expectSignal } from "../_internal/describe.js";
import { resolved } from "../_internal/thenable.js";
import { refuseWait, WaitQueue } from "../_internal/wait-queue.js";
import { IdleSlots } from "./idle-slots.js";
import { Lease, type PoolSlot } from "./lease.js";
import { PoolClosing, type PoolState } from "./pool-closing.js";
import { PoolOverflowError } from "./pool-errors.js";
import {
  type AcquireOptions,
  type PoolCloseOptions,
  type PoolOperation,
  type PoolOptions,
  type PoolSettings,
  type PoolStats,
  poolSettings,
} from "./pool-options.js";
import {
  acquireDeadline,
  createWithRetries,
  destroyQuietly,
  forAcquirer,
  reporter,
} from "./pool-work.js";

/**
 * What a queued acquirer is woken with: a lease, or (when a create for the
 * queue failed) a rejected promise, which its promise adopts.
 */
type Grant<T> = Lease<T> | Promise<Lease<T>>;

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
  readonly #settings: PoolSettings<T>;
  /** Tells `onError` of an error no caller gets. */
  readonly #report: (error: unknown, operation: PoolOperation) => void;
  /** True when a waiter can be woken straight into a lease: no validate, no timeout. */
  readonly #plain: boolean;

  readonly #idle: IdleSlots<T>;
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
  readonly #closing = new PoolClosing();
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
    const settings = poolSettings(options);
    this.#settings = settings;
    this.#report = reporter(settings.onError);
    this.#plain =
      settings.validate === undefined && settings.acquireTimeout === Number.POSITIVE_INFINITY;
    this.#idle = new IdleSlots(
      settings.idleTimeout,
      () => this.#count > this.#settings.min,
      (slot) => void this.#destroySlot(slot, false),
    );
  }

  /** A fresh snapshot of the pool's counters (see {@link PoolStats}). */
  get stats(): PoolStats {
    const waiting = this.#queue.size + this.#acquiring;
    const stats = {
      size: this.#idle.size + this.#borrowed,
      available: this.#idle.size,
      borrowed: this.#borrowed,
      waiting,
      created: this.#created,
      destroyed: this.#destroyed,
    };
    // The deprecated spelling, hidden from JSON and deepEqual: see PoolStats.pending.
    return Object.defineProperty(stats, "pending", { value: waiting }) as PoolStats;
  }

  /** `"open"`, `"closing"` (waiting for leases and destroys) or `"closed"`. */
  get state(): PoolState {
    return this.#closing.state;
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
    const refused = refuseWait(signal);
    if (refused !== undefined) return refused;
    if (this.#closing.state !== "open") return Promise.reject(this.#closing.error());
    if (this.#queue.size === 0) {
      // Nobody ahead in line: an idle resource, or room to create one.
      if (this.#settings.validate === undefined) {
        const slot = this.#idle.pop();
        if (slot !== undefined) return Promise.resolve(this.#lend(slot));
      }
      if (this.#idle.size > 0 || this.#count < this.#settings.max)
        return this.#acquireSlow(signal, false);
    }
    if (this.#queue.size >= this.#settings.maxWaiting) {
      return Promise.reject(new PoolOverflowError(this.#settings.maxWaiting));
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
    if (this.#closing.state === "open") this.#startClosing();
    return this.#closing.wait(signal);
  }

  /** `await using pool = new Pool(…)`: {@link Pool.close} at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `<Pool open size=3 available=1 borrowed=2 waiting=0 max=10>`, for logs. */
  toString(): string {
    const s = this.stats;
    return `<Pool ${this.#closing.state} size=${s.size} available=${s.available} borrowed=${s.borrowed} waiting=${s.waiting} max=${this.#settings.max}>`;
  }

  /**
   * Every acquire that may be cancelled, validates, or gets its resource at
   * once (creating or validating it). `mustWait`: the caller found no room.
   */
  async #acquireSlow(signal: AbortSignal | undefined, mustWait: boolean): Promise<Lease<T>> {
    this.#acquiring++;
    const deadline = acquireDeadline(signal, this.#settings.acquireTimeout);
    const waitSignal = deadline?.signal ?? signal;
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
          const unused = lease;
          this.#goOnOrUndo(waitSignal, () => this.#giveBack(this.#unlend(unused)));
          if (this.#settings.validate === undefined || (Lease._peek(lease) as PoolSlot<T>).fresh) {
            return lease;
          }
          slot = this.#unlend(lease);
          lease = undefined;
        }
        const held = slot as PoolSlot<T>;
        const putBack = (): void => this.#giveBack(held);
        this.#goOnOrUndo(waitSignal, putBack);
        if (await this.#validateFor(held, waitSignal)) {
          this.#goOnOrUndo(waitSignal, putBack);
          return this.#lend(held);
        }
        // Invalid: validateFor destroyed it but kept its room for us: create instead.
        this.#goOnOrUndo(waitSignal, () => {
          this.#count--;
          this.#capacityFreed();
        });
        lease = await this.#createFor(waitSignal);
      }
    } finally {
      this.#acquiring--;
      deadline?.clear();
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

  /**
   * After an await of an acquirer's: when the pool closed or the acquirer
   * gave up meanwhile, `undo` what it holds (pass a lease on, put a resource
   * back, free its room) and throw why.
   */
  #goOnOrUndo(signal: AbortSignal | undefined, undo: () => void): void {
    if (this.#closing.state !== "open") {
      undo();
      throw this.#closing.error();
    }
    if (signal?.aborted) {
      undo();
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

  /** A resource no one holds: to the first waiter, else idle; destroyed when closing or worn out. */
  #giveBack(slot: PoolSlot<T>): void {
    if (this.#closing.state !== "open" || slot.uses >= this.#settings.maxUses) {
      void this.#destroySlot(slot, false);
      return;
    }
    if (this.#queue.size > 0) {
      this.#queue.wakeOne(this.#lend(slot));
      return;
    }
    this.#idle.push(slot);
  }

  /**
   * Room under `max` came free: create a resource for each waiter no create
   * is already running for (or finish closing).
   */
  #capacityFreed(): void {
    if (this.#closing.state !== "open") {
      this.#checkClosed();
      return;
    }
    while (this.#count < this.#settings.max && this.#queue.size > this.#queueCreates) {
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
    const unlink = link(this.#closing.signal, controller);
    this.#runCreate(controller.signal).then(
      (value) => {
        unlink();
        this.#queueCreates--;
        this.#created++;
        this.#giveBack({ value, uses: 0, idleSince: 0, fresh: true });
      },
      (error: unknown) => {
        unlink();
        this.#queueCreates--;
        this.#count--;
        if (this.#closing.state === "open" && this.#queue.size > 0) {
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
    const done = destroyQuietly(this.#settings, slot.value, this.#report, this.#destroyDone);
    if (!keepRoom) {
      this.#count--;
      this.#capacityFreed();
    }
    return done;
  }

  readonly #destroyDone = (): void => {
    this.#destroying--;
    this.#destroyed++;
    this.#checkClosed();
  };

  /**
   * Creates a resource in room already taken and lends it. Rejects as soon as
   * `signal` aborts or the pool closes (aborting the signal `create` got); a
   * resource made after that goes back to the pool. On failure (after
   * `createRetries`) the room is given back.
   */
  #createFor(signal: AbortSignal | undefined): Promise<Lease<T>> {
    const controller = new AbortController();
    return forAcquirer<T, Lease<T>>(
      this.#runCreate(controller.signal),
      signal,
      this.#closing.signal,
      (reason) => controller.abort(reason),
      (outcome, acquirer) => {
        if (outcome.ok) {
          this.#created++;
          const slot: PoolSlot<T> = { value: outcome.value, uses: 0, idleSince: 0, fresh: true };
          if (acquirer !== undefined) acquirer.resolve(this.#lend(slot));
          else this.#giveBack(slot);
          return;
        }
        this.#count--;
        if (acquirer !== undefined) acquirer.reject(outcome.error);
        else if (outcome.error !== controller.signal.reason) this.#report(outcome.error, "create");
        this.#capacityFreed();
      },
    );
  }

  #runCreate(signal: AbortSignal): Promise<T> {
    return createWithRetries(this.#settings, signal, this.#report);
  }

  /**
   * Validates a held resource for an acquirer. Resolves true (lend it) or
   * false (it was destroyed, its room kept for the acquirer); rejects as soon
   * as the acquirer gives up or the pool closes, and the resource then goes
   * back or is destroyed when `validate` settles.
   */
  #validateFor(slot: PoolSlot<T>, signal: AbortSignal | undefined): Promise<boolean> {
    const validate = this.#settings.validate as (value: T) => boolean | PromiseLike<boolean>;
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
    return forAcquirer<boolean, boolean>(
      Promise.resolve(result),
      signal,
      this.#closing.signal,
      noop,
      (outcome, acquirer) => {
        if (!outcome.ok) this.#report(outcome.error, "validate");
        const valid = outcome.ok && outcome.value;
        if (acquirer !== undefined) {
          if (!valid) void this.#destroySlot(slot, true);
          acquirer.resolve(Boolean(valid));
        } else if (valid) {
          this.#giveBack(slot);
        } else {
          void this.#destroySlot(slot, false);
        }
      },
    );
  }

  #startClosing(): void {
    const error = this.#closing.start();
    this.#queue.rejectAll(error);
    this.#closing.abortWork(error);
    for (const slot of this.#idle.drain()) void this.#destroySlot(slot, false);
    this.#checkClosed();
  }

  #checkClosed(): void {
    if (this.#closing.state !== "closing" || this.#count !== 0 || this.#destroying !== 0) return;
    this.#closing.finish();
  }
}
