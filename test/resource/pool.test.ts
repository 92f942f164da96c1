import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import {
  CancelledError,
  Lease,
  LeaseReleasedError,
  Pool,
  PoolClosedError,
  type PoolOperation,
  type PoolOptions,
  PoolOverflowError,
  TimeoutError,
} from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

interface Res {
  readonly id: number;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A pool of numbered plain objects that records what it created, destroyed and reported. */
function setup(options: Partial<PoolOptions<Res>> = {}) {
  let next = 0;
  const created: Res[] = [];
  const destroyed: Res[] = [];
  const errors: [unknown, PoolOperation][] = [];
  const pool = new Pool<Res>({
    create: () => {
      const res = { id: ++next };
      created.push(res);
      return res;
    },
    destroy: (res) => {
      destroyed.push(res);
    },
    onError: (error, operation) => {
      errors.push([error, operation]);
    },
    max: 2,
    ...options,
  });
  return { pool, created, destroyed, errors };
}

function ids(list: readonly Res[]): number[] {
  return list.map((r) => r.id);
}

/** Settles `promise` into a result we can inspect without awaiting it forever. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, "abort").length;
}

describe("Pool", () => {
  describe("options", () => {
    const base = { create: () => ({ id: 0 }), destroy: () => {}, max: 1 };

    it("rejects bad options eagerly with errors naming the option and the value", () => {
      assert.throws(() => new Pool(undefined as unknown as PoolOptions<Res>), {
        name: "TypeError",
        message: /pool options to be an object/,
      });
      assert.throws(() => new Pool({ ...base, create: 1 as unknown as () => Res }), {
        name: "TypeError",
        message: /`create` to be a function, got 1 \(number\)/,
      });
      assert.throws(() => new Pool({ ...base, destroy: undefined as unknown as () => void }), {
        message: /`destroy`/,
      });
      assert.throws(() => new Pool({ ...base, validate: "x" as unknown as () => boolean }), {
        message: /`validate`/,
      });
      assert.throws(() => new Pool({ ...base, onError: 5 as unknown as () => void }), {
        message: /`onError`/,
      });
      assert.throws(() => new Pool({ ...base, max: 0 }), {
        name: "TypeError",
        message: /`max` to be an integer from 1 and up, got 0 \(number\)/,
      });
      assert.throws(() => new Pool({ ...base, max: 1.5 }), TypeError);
      assert.throws(() => new Pool({ ...base, max: undefined as unknown as number }), TypeError);
      assert.throws(() => new Pool({ ...base, min: -1 }), { message: /`min`/ });
      assert.throws(() => new Pool({ ...base, max: 2, min: 3 }), {
        name: "RangeError",
        message: /`min` to be at most `max` \(2\), got 3 \(number\)/,
      });
      assert.throws(() => new Pool({ ...base, idleTimeout: -1 }), { message: /`idleTimeout`/ });
      assert.throws(() => new Pool({ ...base, acquireTimeout: Number.NaN }), {
        message: /`acquireTimeout`/,
      });
      assert.throws(() => new Pool({ ...base, maxUses: 0 }), { message: /`maxUses`/ });
      assert.throws(() => new Pool({ ...base, maxWaiting: -1 }), { message: /`maxWaiting`/ });
      assert.throws(() => new Pool({ ...base, createRetries: 0.5 }), {
        message: /`createRetries`/,
      });
      assert.throws(() => new Pool({ ...base, createRetryDelay: -5 }), {
        message: /`createRetryDelay`/,
      });
    });

    it("accepts Infinity where it means 'no limit'", () => {
      const pool = new Pool({
        ...base,
        max: Number.POSITIVE_INFINITY,
        idleTimeout: Number.POSITIVE_INFINITY,
        acquireTimeout: Number.POSITIVE_INFINITY,
        maxUses: Number.POSITIVE_INFINITY,
        maxWaiting: Number.POSITIVE_INFINITY,
        createRetries: Number.POSITIVE_INFINITY,
        createRetryDelay: 100,
      });
      assert.equal(pool.state, "open");
    });

    it("refuses endless create retries without a delay (they would never yield)", () => {
      assert.throws(() => new Pool({ ...base, createRetries: Number.POSITIVE_INFINITY }), {
        name: "RangeError",
        message: /`createRetryDelay` to be above 0 when `createRetries` is Infinity/,
      });
    });

    it("retries endlessly with a delay until the acquirer gives up", async () => {
      await withVirtualClock(async (clock) => {
        let calls = 0;
        const pool = new Pool({
          ...base,
          create: () => {
            calls++;
            throw new Error("down");
          },
          createRetries: Number.POSITIVE_INFINITY,
          createRetryDelay: 10,
          acquireTimeout: 95,
        });
        const acquiring = track(pool.acquire());
        await clock.advance(95);
        assert.ok(acquiring.error instanceof TimeoutError);
        assert.equal(calls, 10);
        assert.equal(clock.pendingTimers, 0);
        assert.equal(pool.stats.size, 0);
      });
    });

    it("rejects (never throws) a bad signal passed to acquire, use and close", async () => {
      const { pool } = setup();
      const bad = { signal: "no" as unknown as AbortSignal };
      await assert.rejects(pool.acquire(bad), { name: "TypeError", message: /`signal`/ });
      await assert.rejects(
        pool.use(() => 1, bad),
        TypeError,
      );
      await assert.rejects(pool.close(bad), TypeError);
      await assert.rejects(pool.use(5 as unknown as () => number), { message: /`fn`/ });
    });
  });

  describe("lending", () => {
    it("creates up to max, then reuses what comes back (most recently returned first)", async () => {
      const { pool, created } = setup({ max: 3 });
      const a = await pool.acquire();
      const b = await pool.acquire();
      assert.deepEqual(ids(created), [1, 2]);
      assert.deepEqual(pool.stats, {
        size: 2,
        available: 0,
        borrowed: 2,
        waiting: 0,
        created: 2,
        destroyed: 0,
      });
      await a.release();
      await b.release();
      assert.deepEqual(pool.stats, {
        size: 2,
        available: 2,
        borrowed: 0,
        waiting: 0,
        created: 2,
        destroyed: 0,
      });
      const c = await pool.acquire();
      assert.equal(c.value.id, 2, "LIFO: the warmest resource");
      assert.deepEqual(ids(created), [1, 2], "no new resource while one is idle");
      await c.release();
    });

    it("serves waiters first come, first served", async () => {
      const { pool } = setup({ max: 1 });
      const first = await pool.acquire();
      const order: string[] = [];
      const waiters = ["a", "b", "c"].map((name) =>
        pool.acquire().then(async (lease) => {
          order.push(name);
          await lease.release();
        }),
      );
      await waitIdle();
      assert.equal(pool.stats.waiting, 3);
      await first.release();
      await Promise.all(waiters);
      assert.deepEqual(order, ["a", "b", "c"]);
      assert.equal(pool.stats.waiting, 0);
    });

    it("does not let a newcomer jump the queue when a resource comes back", async () => {
      const { pool } = setup({ max: 1 });
      const held = await pool.acquire();
      const waiting = pool.acquire();
      await held.release();
      const newcomer = track(pool.acquire());
      const lease = await waiting;
      await waitIdle();
      assert.equal(newcomer.settled, false);
      await lease.release();
      await waitIdle();
      assert.ok(newcomer.value instanceof Lease);
      await newcomer.value.release();
    });

    it("hands out each resource to one borrower at a time", async () => {
      const { pool } = setup({ max: 3 });
      const inUse = new Set<number>();
      let peak = 0;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pool.use(async (res) => {
            assert.equal(inUse.has(res.id), false, "resource lent twice");
            inUse.add(res.id);
            peak = Math.max(peak, inUse.size);
            for (let k = 0; k < i % 4; k++) await Promise.resolve();
            inUse.delete(res.id);
          }),
        ),
      );
      assert.equal(peak, 3);
    });
  });

  describe("Lease", () => {
    it("works with await using, on success and on error", async () => {
      const { pool } = setup({ max: 1 });
      {
        await using lease = await pool.acquire();
        assert.equal(lease.value.id, 1);
        assert.equal(pool.stats.borrowed, 1);
      }
      assert.equal(pool.stats.borrowed, 0);
      await assert.rejects(
        (async () => {
          await using _lease = await pool.acquire();
          throw new Error("work failed");
        })(),
        { message: "work failed" },
      );
      assert.deepEqual(pool.stats, {
        size: 1,
        available: 1,
        borrowed: 0,
        waiting: 0,
        created: 1,
        destroyed: 0,
      });
    });

    it("throws LeaseReleasedError (a ReferenceError) for value after release or destroy", async () => {
      const { pool } = setup();
      const a = await pool.acquire();
      await a.release();
      assert.throws(() => a.value, {
        name: "LeaseReleasedError",
        message: "Cannot read the value of a lease: it was released",
      });
      assert.throws(() => a.value, LeaseReleasedError);
      assert.throws(() => a.value, ReferenceError);
      const b = await pool.acquire();
      await b.destroy();
      assert.throws(() => b.value, { message: /it was destroyed/ });
      assert.equal(String(b), "<Lease destroyed>");
    });

    it("makes release and destroy idempotent: only the first call counts", async () => {
      const { pool, destroyed } = setup({ max: 1 });
      const lease = await pool.acquire();
      assert.equal(lease.released, false);
      const first = lease.release();
      assert.equal(lease.released, true);
      assert.equal(lease.release(), first);
      await lease.destroy();
      await lease[Symbol.asyncDispose]();
      assert.deepEqual(destroyed, []);
      assert.deepEqual(pool.stats, {
        size: 1,
        available: 1,
        borrowed: 0,
        waiting: 0,
        created: 1,
        destroyed: 0,
      });
      // The resource went back once: two acquirers can't both get it.
      const x = await pool.acquire();
      const y = track(pool.acquire());
      await waitIdle();
      assert.equal(y.settled, false);
      await x.release();
      await waitIdle();
      await (y.value as Lease<Res>).release();
    });

    it("destroy() destroys the resource and frees its room for a waiter", async () => {
      const { pool, destroyed, created } = setup({ max: 1 });
      const lease = await pool.acquire();
      const waiting = pool.acquire();
      await lease.destroy();
      assert.deepEqual(ids(destroyed), [1]);
      const next = await waiting;
      assert.equal(next.value.id, 2);
      assert.deepEqual(ids(created), [1, 2]);
      await lease.release(); // no-op after destroy
      await next.release();
      assert.equal(pool.stats.destroyed, 1);
    });

    it("destroy() resolves after the pool's destroy has finished and never rejects", async () => {
      const gate = deferred<void>();
      const { pool, errors } = setup({
        destroy: () => gate.promise,
      });
      const lease = await pool.acquire();
      const destroying = track(lease.destroy());
      await waitIdle();
      assert.equal(destroying.settled, false);
      gate.reject(new Error("destroy failed"));
      await waitIdle();
      assert.equal(destroying.settled, true);
      assert.equal(destroying.error, undefined);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.[1], "destroy");
    });
  });

  describe("use()", () => {
    it("passes the value and the lease, resolves with fn's result and releases", async () => {
      const { pool } = setup();
      const result = await pool.use(async (res, lease) => {
        assert.equal(lease.value, res);
        return res.id * 10;
      });
      assert.equal(result, 10);
      assert.equal(pool.stats.borrowed, 0);
      assert.equal(pool.stats.available, 1);
    });

    it("releases when fn throws and rejects with fn's error", async () => {
      const { pool } = setup();
      await assert.rejects(
        pool.use(() => {
          throw new Error("fn failed");
        }),
        { message: "fn failed" },
      );
      assert.equal(pool.stats.borrowed, 0);
      assert.equal(pool.stats.available, 1);
    });

    it("lets fn destroy a broken resource", async () => {
      const { pool, destroyed } = setup();
      await pool.use((_, lease) => lease.destroy());
      assert.deepEqual(ids(destroyed), [1]);
      assert.equal(pool.stats.size, 0);
    });
  });

  describe("cancellation", () => {
    it("rejects at once for an already aborted signal, changing nothing", async () => {
      const { pool, created } = setup();
      const reason = new CancelledError("no");
      await assert.rejects(
        pool.acquire({ signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
      assert.deepEqual(created, []);
      assert.equal(pool.stats.waiting, 0);
    });

    it("an aborted waiter leaves the queue at once; the next waiter gets the resource", async () => {
      const { pool } = setup({ max: 1 });
      const held = await pool.acquire();
      const controller = new AbortController();
      const aborted = pool.acquire({ signal: controller.signal });
      const next = pool.acquire();
      await waitIdle();
      assert.equal(pool.stats.waiting, 2);
      controller.abort("gone");
      await assert.rejects(aborted, (e) => e === "gone");
      assert.equal(pool.stats.waiting, 1);
      assert.equal(abortListeners(controller.signal), 0);
      await held.release();
      const lease = await next;
      assert.equal(lease.value.id, 1);
      await lease.release();
    });

    it("a resource handed to a waiter whose signal aborts in the same tick goes to the next waiter", async () => {
      const { pool } = setup({ max: 1 });
      const held = await pool.acquire();
      const controller = new AbortController();
      const first = pool.acquire({ signal: controller.signal });
      const second = pool.acquire();
      await waitIdle();
      void held.release(); // wakes `first`…
      controller.abort("late"); // …which is cancelled before it resumes
      await assert.rejects(first, (e) => e === "late");
      const lease = await second;
      assert.equal(lease.value.id, 1);
      assert.equal(pool.stats.borrowed, 1);
      await lease.release();
      assert.equal(pool.stats.available, 1);
    });

    it("…or back to the idle set when no one else waits", async () => {
      const { pool } = setup({ max: 1 });
      const held = await pool.acquire();
      const controller = new AbortController();
      const first = pool.acquire({ signal: controller.signal });
      await waitIdle();
      void held.release();
      controller.abort("late");
      await assert.rejects(first, (e) => e === "late");
      assert.deepEqual(pool.stats, {
        size: 1,
        available: 1,
        borrowed: 0,
        waiting: 0,
        created: 1,
        destroyed: 0,
      });
      // Its use was not counted: maxUses-wise it was never lent.
    });

    it("does not count a use for a resource handed to an acquirer that gave up", async () => {
      const { pool, destroyed } = setup({ max: 1, maxUses: 2 });
      const held = await pool.acquire(); // use 1
      const controller = new AbortController();
      const first = pool.acquire({ signal: controller.signal });
      await waitIdle();
      void held.release();
      controller.abort("late");
      await assert.rejects(first);
      const again = await pool.acquire(); // use 2
      await again.release();
      assert.deepEqual(ids(destroyed), [1], "destroyed after its second real use");
    });

    it("an acquirer aborted while its resource is being created rejects at once", async () => {
      const gate = deferred<Res>();
      let createSignal: AbortSignal | undefined;
      const { pool } = setup({
        max: 1,
        create: (signal) => {
          createSignal = signal;
          return gate.promise;
        },
      });
      const controller = new AbortController();
      const acquiring = pool.acquire({ signal: controller.signal });
      await waitIdle();
      assert.equal(pool.stats.waiting, 1);
      controller.abort("stop");
      await assert.rejects(acquiring, (e) => e === "stop");
      assert.equal(createSignal?.aborted, true, "create was told");
      assert.equal(createSignal?.reason, "stop");
      assert.equal(pool.stats.waiting, 0);
      assert.equal(abortListeners(controller.signal), 0);
      // The resource arrives anyway: kept for the next acquirer, not lost.
      gate.resolve({ id: 7 });
      await waitIdle();
      assert.equal(pool.stats.available, 1);
      const lease = await pool.acquire();
      assert.equal(lease.value.id, 7);
      await lease.release();
    });

    it("…and when create then fails, the room is given back and nothing is reported as its own failure", async () => {
      const gate = deferred<Res>();
      const { pool, errors } = setup({ max: 1, create: () => gate.promise });
      const controller = new AbortController();
      const acquiring = pool.acquire({ signal: controller.signal });
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(acquiring);
      gate.reject(new Error("refused"));
      await waitIdle();
      assert.deepEqual(
        errors.map(([e, op]) => [(e as Error).message, op]),
        [["refused", "create"]],
      );
      assert.equal(pool.stats.size, 0);
    });

    it("a waiter aborted while a resource is created for the queue leaves at once; the resource goes to the next", async () => {
      let gate = deferred<Res>();
      const { pool } = setup({ max: 1, create: () => gate.promise });
      const first = pool.acquire(); // creates
      gate.resolve({ id: 1 });
      const lease = await first;
      gate = deferred<Res>();
      const controller = new AbortController();
      const waiting = pool.acquire({ signal: controller.signal });
      const next = pool.acquire();
      await waitIdle();
      await lease.destroy(); // room frees: a resource is created for the queue
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(waiting, (e) => e === "stop");
      gate.resolve({ id: 2 });
      const got = await next;
      assert.equal(got.value.id, 2);
      await got.release();
    });

    describe("an abort at every microtask after the hand-over either cancels cleanly or lets the acquire win", () => {
      /**
       * `start` makes the acquirer's resource arrive (release, create, validate…);
       * the abort comes `k` microtasks later. Either way, nothing is lost: a
       * cancelled acquirer's resource is idle again; a winner holds it.
       */
      async function sweep(
        options: Partial<PoolOptions<Res>>,
        prepare: (pool: Pool<Res>) => Promise<() => void>,
      ): Promise<Set<string>> {
        const outcomes = new Set<string>();
        for (let k = 0; k < 12; k++) {
          const { pool } = setup(options);
          const start = await prepare(pool);
          const controller = new AbortController();
          const acquiring = track(pool.acquire({ signal: controller.signal }));
          await waitIdle();
          start();
          for (let i = 0; i < k; i++) await Promise.resolve();
          controller.abort("late");
          await waitIdle();
          assert.equal(acquiring.settled, true, `k=${k}: settled`);
          if (acquiring.error === undefined) {
            outcomes.add("won");
            assert.equal(pool.stats.borrowed, 1, `k=${k}: the winner holds it`);
            await (acquiring.value as Lease<Res>).release();
          } else {
            outcomes.add("cancelled");
            assert.equal(acquiring.error, "late");
          }
          assert.equal(pool.stats.borrowed, 0, `k=${k}: nothing lent`);
          assert.equal(pool.stats.waiting, 0, `k=${k}: nothing pending`);
          assert.equal(pool.stats.available, pool.stats.size, `k=${k}: all idle`);
          assert.equal(abortListeners(controller.signal), 0, `k=${k}: listeners`);
          await pool.close();
          assert.equal(pool.stats.created, pool.stats.destroyed, `k=${k}: all destroyed`);
        }
        return outcomes;
      }

      it("when a lease is handed over from the queue", async () => {
        const outcomes = await sweep({ max: 1 }, async (pool) => {
          const held = await pool.acquire();
          return () => void held.release();
        });
        assert.deepEqual([...outcomes].sort(), ["cancelled", "won"]);
      });

      it("when its resource is being created", async () => {
        let gate = deferred<Res>();
        const outcomes = await sweep({ create: () => gate.promise }, async () => {
          gate = deferred<Res>();
          return () => gate.resolve({ id: 1 });
        });
        assert.deepEqual([...outcomes].sort(), ["cancelled", "won"]);
      });

      it("when a resource is created for it after it queued", async () => {
        let gate = deferred<Res>();
        const outcomes = await sweep({ max: 1, create: () => gate.promise }, async (pool) => {
          gate = deferred<Res>();
          const first = pool.acquire();
          gate.resolve({ id: 1 });
          const held = await first;
          gate = deferred<Res>();
          return () => {
            void held.destroy(); // room frees: a new resource is created for the waiter
            gate.resolve({ id: 2 });
          };
        });
        assert.deepEqual([...outcomes].sort(), ["cancelled", "won"]);
      });

      it("when its resource is being validated", async () => {
        let answer = deferred<boolean>();
        const outcomes = await sweep({ validate: () => answer.promise }, async (pool) => {
          await (await pool.acquire()).release();
          answer = deferred<boolean>();
          return () => answer.resolve(true);
        });
        assert.deepEqual([...outcomes].sort(), ["cancelled", "won"]);
      });
    });

    it("removes its abort listeners when it gets a lease", async () => {
      const { pool } = setup({ max: 1, acquireTimeout: 1_000 });
      const controller = new AbortController();
      const lease = await pool.acquire({ signal: controller.signal });
      const waiting = pool.acquire({ signal: controller.signal });
      await waitIdle();
      await lease.release();
      await (await waiting).release();
      assert.equal(abortListeners(controller.signal), 0);
    });
  });

  describe("acquireTimeout", () => {
    it("rejects a waiter with a TimeoutError after acquireTimeout and clears its timer", async () => {
      await withVirtualClock(async (clock) => {
        const { pool } = setup({ max: 1, acquireTimeout: 100 });
        const held = await pool.acquire();
        assert.equal(clock.pendingTimers, 0, "no timer when nothing had to wait");
        const waiting = track(pool.acquire());
        await clock.advance(99);
        assert.equal(waiting.settled, false);
        await clock.advance(1);
        assert.ok(waiting.error instanceof TimeoutError);
        assert.equal(waiting.error.ms, 100);
        assert.match(waiting.error.message, /Cannot acquire a resource: timed out after 100 ms/);
        assert.equal(pool.stats.waiting, 0);
        assert.equal(clock.pendingTimers, 0);
        await held.release();
        assert.equal(
          pool.stats.available,
          1,
          "the resource was not handed to the timed-out waiter",
        );
      });
    });

    it("clears its timer when the lease comes in time", async () => {
      await withVirtualClock(async (clock) => {
        const { pool } = setup({ max: 1, acquireTimeout: 100 });
        const held = await pool.acquire();
        const waiting = pool.acquire();
        await clock.advance(50);
        await held.release();
        await (await waiting).release();
        assert.equal(clock.pendingTimers, 0);
      });
    });

    it("also bounds a slow create, and aborts create's signal with the TimeoutError", async () => {
      await withVirtualClock(async (clock) => {
        let createSignal: AbortSignal | undefined;
        const { pool } = setup({
          acquireTimeout: 50,
          create: (signal) => {
            createSignal = signal;
            return new Promise<Res>(() => {});
          },
        });
        const acquiring = track(pool.acquire());
        await clock.advance(50);
        assert.ok(acquiring.error instanceof TimeoutError);
        assert.ok(createSignal?.reason instanceof TimeoutError);
      });
    });

    it("keeps the user's signal working alongside the timeout", async () => {
      await withVirtualClock(async () => {
        const { pool } = setup({ max: 1, acquireTimeout: 100 });
        const held = await pool.acquire();
        const controller = new AbortController();
        const waiting = pool.acquire({ signal: controller.signal });
        controller.abort("user");
        await assert.rejects(waiting, (e) => e === "user");
        assert.equal(abortListeners(controller.signal), 0);
        await held.release();
      });
    });
  });

  describe("maxWaiting", () => {
    it("rejects with PoolOverflowError beyond maxWaiting waiters", async () => {
      const { pool } = setup({ max: 1, maxWaiting: 2 });
      const held = await pool.acquire();
      const a = pool.acquire();
      const b = pool.acquire({ signal: new AbortController().signal });
      await assert.rejects(pool.acquire(), (e) => {
        assert.ok(e instanceof PoolOverflowError);
        assert.equal(e.name, "PoolOverflowError");
        assert.equal(e.maxWaiting, 2);
        assert.match(e.message, /2 acquirers are already waiting \(maxWaiting is 2\)/);
        return true;
      });
      await assert.rejects(
        pool.acquire({ signal: new AbortController().signal }),
        PoolOverflowError,
      );
      await held.release();
      await (await a).release();
      await (await b).release();
    });

    it("with maxWaiting 0 fails fast instead of waiting, but still lends what is free", async () => {
      const { pool } = setup({ max: 1, maxWaiting: 0 });
      const held = await pool.acquire();
      await assert.rejects(pool.acquire(), /1 acquirer|0 acquirers/);
      await held.release();
      await (await pool.acquire()).release();
    });
  });

  describe("create failures", () => {
    it("give the acquirer the error, give the room back, and leave the pool usable", async () => {
      let fail = true;
      const { pool } = setup({
        max: 1,
        create: () => {
          if (fail) throw new Error("refused");
          return { id: 42 };
        },
      });
      await assert.rejects(pool.acquire(), { message: "refused" });
      assert.deepEqual(pool.stats, {
        size: 0,
        available: 0,
        borrowed: 0,
        waiting: 0,
        created: 0,
        destroyed: 0,
      });
      fail = false;
      const lease = await pool.acquire();
      assert.equal(lease.value.id, 42);
      await lease.release();
    });

    it("a rejecting create fails only its acquirer; the next waiter gets to create", async () => {
      const gates = [deferred<Res>(), deferred<Res>()];
      let calls = 0;
      const { pool } = setup({ max: 1, create: () => (gates[calls++] as Deferred<Res>).promise });
      const first = pool.acquire();
      const second = pool.acquire();
      await waitIdle();
      assert.equal(calls, 1, "one create at a time with max 1");
      gates[0]?.reject(new Error("refused"));
      await assert.rejects(first, { message: "refused" });
      await waitIdle();
      assert.equal(calls, 2);
      gates[1]?.resolve({ id: 2 });
      const lease = await second;
      assert.equal(lease.value.id, 2);
      await lease.release();
    });

    it("a failed create for the queue rejects the first waiter; the next gets a new try", async () => {
      const gates: Deferred<Res>[] = [];
      const { pool } = setup({
        max: 1,
        create: () => {
          const gate = deferred<Res>();
          gates.push(gate);
          return gate.promise;
        },
      });
      const firstAcquire = pool.acquire();
      gates[0]?.resolve({ id: 1 });
      const lease = await firstAcquire;
      const a = pool.acquire();
      const b = pool.acquire({ signal: new AbortController().signal });
      await waitIdle();
      await lease.destroy();
      await waitIdle();
      assert.equal(gates.length, 2, "one create for the queue");
      assert.equal(pool.stats.waiting, 2, "both still wait");
      gates[1]?.reject(new Error("refused"));
      await assert.rejects(a, { message: "refused" });
      await waitIdle();
      assert.equal(gates.length, 3);
      gates[2]?.resolve({ id: 3 });
      const got = await b;
      assert.equal(got.value.id, 3);
      await got.release();
    });

    it("a failed create for the queue with nobody left waiting goes to onError", async () => {
      const gates: Deferred<Res>[] = [];
      const { pool, errors } = setup({
        max: 1,
        create: () => {
          const gate = deferred<Res>();
          gates.push(gate);
          return gate.promise;
        },
      });
      const firstAcquire = pool.acquire();
      gates[0]?.resolve({ id: 1 });
      const lease = await firstAcquire;
      const controller = new AbortController();
      const waiting = pool.acquire({ signal: controller.signal });
      await waitIdle();
      await lease.destroy();
      controller.abort("gone");
      await assert.rejects(waiting);
      gates[1]?.reject(new Error("refused"));
      await waitIdle();
      assert.deepEqual(
        errors.map(([e, op]) => [(e as Error).message, op]),
        [["refused", "create"]],
      );
      assert.equal(pool.stats.size, 0);
    });

    it("with createRetries, tries again and reports each retried failure to onError", async () => {
      let calls = 0;
      const { pool, errors } = setup({
        createRetries: 2,
        create: () => {
          calls++;
          if (calls < 3) return Promise.reject(new Error(`try ${calls}`));
          return { id: calls };
        },
      });
      const lease = await pool.acquire();
      assert.equal(lease.value.id, 3);
      assert.deepEqual(
        errors.map(([e, op]) => [(e as Error).message, op]),
        [
          ["try 1", "create"],
          ["try 2", "create"],
        ],
      );
      await lease.release();
    });

    it("rejects with the last error once the retries are used up", async () => {
      let calls = 0;
      const { pool } = setup({
        createRetries: 1,
        create: () => {
          calls++;
          throw new Error(`try ${calls}`);
        },
      });
      await assert.rejects(pool.acquire(), { message: "try 2" });
      assert.equal(calls, 2);
      assert.equal(pool.stats.size, 0);
    });

    it("waits createRetryDelay between tries on aiokit's clock, and an abort stops the wait", async () => {
      await withVirtualClock(async (clock) => {
        let calls = 0;
        const { pool } = setup({
          createRetries: 3,
          createRetryDelay: 1_000,
          create: () => {
            calls++;
            throw new Error("down");
          },
        });
        const controller = new AbortController();
        const acquiring = track(pool.acquire({ signal: controller.signal }));
        await clock.advance(999);
        assert.equal(calls, 1);
        await clock.advance(1);
        assert.equal(calls, 2);
        controller.abort("stop");
        await waitIdle();
        assert.equal(acquiring.error, "stop");
        assert.equal(clock.pendingTimers, 0, "the retry delay's timer is gone");
        await clock.advance(10_000);
        assert.equal(calls, 2, "no retry after the acquirer left");
        assert.equal(pool.stats.size, 0);
      });
    });
  });

  describe("destroy failures", () => {
    it("go to onError (sync throw or rejection); the resource counts as destroyed", async () => {
      let n = 0;
      const { pool, errors } = setup({
        max: 1,
        destroy: () => {
          n++;
          if (n === 1) throw new Error("sync");
          return Promise.reject(new Error("async"));
        },
      });
      await (await pool.acquire()).destroy();
      await (await pool.acquire()).destroy();
      assert.deepEqual(
        errors.map(([e, op]) => [(e as Error).message, op]),
        [
          ["sync", "destroy"],
          ["async", "destroy"],
        ],
      );
      assert.equal(pool.stats.destroyed, 2);
      await (await pool.acquire()).release();
      await pool.close();
      assert.equal(pool.stats.destroyed, 3);
    });

    it("are ignored when there is no onError, and an onError that throws is ignored too", async () => {
      const pool = new Pool({
        create: () => ({ id: 1 }),
        destroy: () => {
          throw new Error("x");
        },
        max: 1,
      });
      await (await pool.acquire()).destroy();
      const throwing = new Pool({
        create: () => ({ id: 1 }),
        destroy: () => {
          throw new Error("x");
        },
        onError: () => {
          throw new Error("onError failed");
        },
        max: 1,
      });
      await (await throwing.acquire()).destroy();
      await throwing.close();
      assert.equal(throwing.state, "closed");
    });
  });

  describe("validate", () => {
    it("checks idle resources on borrow, not fresh ones", async () => {
      const checked: number[] = [];
      const { pool } = setup({
        validate: (res) => {
          checked.push(res.id);
          return true;
        },
      });
      const lease = await pool.acquire();
      assert.deepEqual(checked, [], "fresh: not validated");
      await lease.release();
      await (await pool.acquire()).release();
      assert.deepEqual(checked, [1]);
    });

    it("destroys an invalid resource and lends another (or a new one)", async () => {
      const bad = new Set<number>();
      const { pool, destroyed } = setup({ max: 3, validate: (res) => !bad.has(res.id) });
      const a = await pool.acquire();
      const b = await pool.acquire();
      await a.release();
      await b.release(); // idle: [1, 2], 2 is lent first
      bad.add(2);
      const c = await pool.acquire();
      assert.equal(c.value.id, 3, "2 was invalid: its room is used to create a new one");
      assert.deepEqual(ids(destroyed), [2]);
      bad.add(1);
      const d = await pool.acquire();
      assert.equal(d.value.id, 4);
      assert.deepEqual(ids(destroyed), [2, 1]);
      await c.release();
      await d.release();
    });

    it("treats a validate that throws or rejects as invalid and reports the error", async () => {
      let mode: "throw" | "reject" = "throw";
      const { pool, destroyed, errors } = setup({
        validate: () => {
          if (mode === "throw") throw new Error("validate threw");
          return Promise.reject(new Error("validate rejected"));
        },
      });
      await (await pool.acquire()).release();
      const a = await pool.acquire();
      assert.equal(a.value.id, 2);
      await a.release();
      mode = "reject";
      const b = await pool.acquire();
      assert.equal(b.value.id, 3);
      await b.release();
      assert.deepEqual(ids(destroyed), [1, 2]);
      assert.deepEqual(
        errors.map(([e, op]) => [(e as Error).message, op]),
        [
          ["validate threw", "validate"],
          ["validate rejected", "validate"],
        ],
      );
    });

    it("validates resources handed to waiters too", async () => {
      const checked: number[] = [];
      const { pool } = setup({
        max: 1,
        validate: (res) => {
          checked.push(res.id);
          return Promise.resolve(true);
        },
      });
      const held = await pool.acquire();
      const waiting = pool.acquire();
      await held.release();
      await (await waiting).release();
      assert.deepEqual(checked, [1]);
    });

    it("an acquirer aborted during an async validate rejects at once; the resource goes back when valid", async () => {
      const answer = deferred<boolean>();
      let validating = false;
      const { pool, destroyed } = setup({
        validate: () => {
          validating = true;
          return answer.promise;
        },
      });
      await (await pool.acquire()).release();
      const controller = new AbortController();
      const acquiring = pool.acquire({ signal: controller.signal });
      await waitIdle();
      assert.equal(validating, true);
      assert.equal(pool.stats.waiting, 1);
      controller.abort("stop");
      await assert.rejects(acquiring, (e) => e === "stop");
      assert.equal(abortListeners(controller.signal), 0);
      answer.resolve(true);
      await waitIdle();
      assert.equal(pool.stats.available, 1);
      assert.deepEqual(destroyed, []);
    });

    it("…and is destroyed when found invalid after the acquirer left", async () => {
      const answer = deferred<boolean>();
      const { pool, destroyed } = setup({ validate: () => answer.promise });
      await (await pool.acquire()).release();
      const controller = new AbortController();
      const acquiring = pool.acquire({ signal: controller.signal });
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(acquiring);
      answer.resolve(false);
      await waitIdle();
      assert.deepEqual(ids(destroyed), [1]);
      assert.equal(pool.stats.size, 0);
    });

    it("…and is destroyed when validate rejects after the acquirer left", async () => {
      const answer = deferred<boolean>();
      const { pool, destroyed, errors } = setup({ validate: () => answer.promise });
      await (await pool.acquire()).release();
      const controller = new AbortController();
      const acquiring = pool.acquire({ signal: controller.signal });
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(acquiring);
      answer.reject(new Error("broken"));
      await waitIdle();
      assert.deepEqual(ids(destroyed), [1]);
      assert.equal(errors[0]?.[1], "validate");
    });
  });

  describe("idle eviction", () => {
    it("destroys resources idle for idleTimeout, down to min", async () => {
      await withVirtualClock(async (clock) => {
        const { pool, destroyed } = setup({ max: 4, min: 1, idleTimeout: 1_000 });
        const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
        for (const lease of leases) await lease.release();
        await clock.advance(500);
        const again = await pool.acquire(); // takes 3 (LIFO); 1 and 2 stay idle
        await clock.advance(499);
        assert.deepEqual(destroyed, []);
        await clock.advance(1);
        // 1 and 2 expired; min 1 counts the borrowed one too, so both go.
        assert.deepEqual(ids(destroyed), [1, 2]);
        await again.release();
        await clock.advance(1_000);
        assert.deepEqual(ids(destroyed), [1, 2], "min 1: the last one stays");
        assert.equal(pool.stats.size, 1);
        assert.equal(clock.pendingTimers, 0);
      });
    });

    it("keeps evicting in order as resources expire one after another", async () => {
      await withVirtualClock(async (clock) => {
        const { pool, destroyed } = setup({ max: 3, idleTimeout: 100 });
        const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
        await a?.release();
        await clock.advance(30);
        await b?.release();
        await clock.advance(30);
        await c?.release();
        await clock.advance(40);
        assert.deepEqual(ids(destroyed), [1]);
        await clock.advance(30);
        assert.deepEqual(ids(destroyed), [1, 2]);
        await clock.advance(30);
        assert.deepEqual(ids(destroyed), [1, 2, 3]);
        assert.equal(clock.pendingTimers, 0);
      });
    });

    it("clears its timer on close", async () => {
      await withVirtualClock(async (clock) => {
        const { pool } = setup({ idleTimeout: 1_000 });
        await (await pool.acquire()).release();
        assert.equal(clock.pendingTimers, 1);
        await pool.close();
        assert.equal(clock.pendingTimers, 0);
      });
    });
  });

  describe("maxUses", () => {
    it("destroys a resource when it comes back after maxUses leases", async () => {
      const { pool, destroyed } = setup({ max: 1, maxUses: 2 });
      await (await pool.acquire()).release();
      assert.deepEqual(destroyed, []);
      await (await pool.acquire()).release();
      assert.deepEqual(ids(destroyed), [1]);
      const lease = await pool.acquire();
      assert.equal(lease.value.id, 2);
      await lease.release();
    });

    it("replaces a worn-out resource for the waiter it would have gone to", async () => {
      const { pool, destroyed } = setup({ max: 1, maxUses: 1 });
      const held = await pool.acquire();
      const waiting = pool.acquire();
      await held.release();
      const lease = await waiting;
      assert.equal(lease.value.id, 2);
      assert.deepEqual(ids(destroyed), [1]);
      await lease.release();
    });
  });

  describe("close()", () => {
    it("rejects waiters with PoolClosedError, destroys idle ones at once, waits for leases", async () => {
      const { pool, destroyed } = setup({ max: 3 });
      const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
      const waiter = pool.acquire();
      const slowWaiter = pool.acquire({ signal: new AbortController().signal });
      await waitIdle();
      assert.equal(pool.stats.waiting, 2);
      await c?.release(); // handed to `waiter`
      const lease = await waiter;
      await lease.release(); // handed to `slowWaiter`
      await (await slowWaiter).release(); // idle
      const waiting = [pool.acquire(), pool.acquire({ signal: new AbortController().signal })];
      assert.equal(pool.stats.available, 0, "the idle one was lent");
      const closing = track(pool.close());
      assert.deepEqual(ids(destroyed), []);
      for (const w of waiting) {
        // The first got the idle resource before close; the second was still queued.
        await w.then(
          (l) => l.release(),
          (e: unknown) => assert.ok(e instanceof PoolClosedError),
        );
      }
      await waitIdle();
      assert.deepEqual(ids(destroyed), [3], "a lease returned after close is destroyed");
      assert.equal(pool.state, "closing");
      assert.equal(closing.settled, false, "waits for the leases");
      assert.equal(a?.value.id, 1, "a borrower can still use its resource");
      await a?.release();
      await b?.release();
      await waitIdle();
      assert.deepEqual(ids(destroyed), [3, 1, 2]);
      assert.equal(closing.settled, true);
      assert.equal(pool.state, "closed");
    });

    it("rejects every queued waiter, plain or cancellable, with PoolClosedError", async () => {
      const { pool } = setup({ max: 1 });
      const held = await pool.acquire();
      const plain = pool.acquire();
      const cancellable = pool.acquire({ signal: new AbortController().signal });
      const closing = pool.close();
      await assert.rejects(plain, PoolClosedError);
      await assert.rejects(cancellable, { name: "PoolClosedError", message: /it was closed/ });
      assert.equal(pool.stats.waiting, 0);
      await held.release();
      await closing;
    });

    it("destroys idle resources at once", async () => {
      const gate = deferred<void>();
      const { pool, destroyed } = setup({
        destroy: (res) => {
          destroyed.push(res);
          return gate.promise;
        },
      });
      await (await pool.acquire()).release();
      const closing = pool.close();
      assert.deepEqual(ids(destroyed), [1]);
      gate.resolve();
      await closing;
    });

    it("rejects new acquires and use() with PoolClosedError naming the state", async () => {
      const { pool } = setup();
      const lease = await pool.acquire();
      const closing = pool.close();
      await assert.rejects(pool.acquire(), {
        message: "Cannot acquire from the pool: it is closing",
      });
      await lease.release();
      await closing;
      await assert.rejects(pool.acquire(), {
        message: "Cannot acquire from the pool: it is closed",
      });
      await assert.rejects(
        pool.use(() => 1),
        PoolClosedError,
      );
    });

    it("is idempotent: every call resolves when the pool is closed", async () => {
      const { pool, destroyed } = setup();
      const lease = await pool.acquire();
      const first = track(pool.close());
      const second = track(pool.close());
      await lease.release();
      await waitIdle();
      assert.equal(first.settled && second.settled, true);
      await pool.close();
      await pool[Symbol.asyncDispose]();
      assert.deepEqual(ids(destroyed), [1]);
    });

    it("with a signal that aborts, rejects with its reason; the pool still destroys what comes back", async () => {
      const { pool, destroyed } = setup();
      const lease = await pool.acquire();
      const controller = new AbortController();
      const closing = pool.close({ signal: controller.signal });
      controller.abort("enough");
      await assert.rejects(closing, (e) => e === "enough");
      assert.equal(abortListeners(controller.signal), 0);
      assert.equal(pool.state, "closing");
      await lease.release();
      await pool.close();
      assert.deepEqual(ids(destroyed), [1]);
      assert.equal(pool.state, "closed");
    });

    it("with an already aborted signal, still starts closing", async () => {
      const { pool, destroyed } = setup();
      await (await pool.acquire()).release();
      await assert.rejects(pool.close({ signal: AbortSignal.abort("now") }), (e) => e === "now");
      await waitIdle();
      assert.deepEqual(ids(destroyed), [1]);
      assert.equal(pool.state, "closed");
    });

    it("removes its listener from a signal that never aborts", async () => {
      const { pool } = setup();
      const controller = new AbortController();
      const lease = await pool.acquire();
      const closing = pool.close({ signal: controller.signal });
      assert.equal(abortListeners(controller.signal), 1);
      await lease.release();
      await closing;
      assert.equal(abortListeners(controller.signal), 0);
    });

    it("rejects an acquirer whose resource is being created, aborts create, destroys its late resource", async () => {
      const gate = deferred<Res>();
      let createSignal: AbortSignal | undefined;
      const { pool, destroyed } = setup({
        create: (signal) => {
          createSignal = signal;
          return gate.promise;
        },
      });
      const acquiring = pool.acquire();
      await waitIdle();
      const closing = track(pool.close());
      await assert.rejects(acquiring, PoolClosedError);
      assert.ok(createSignal?.reason instanceof PoolClosedError);
      await waitIdle();
      assert.equal(closing.settled, false, "waits for the create to settle");
      gate.resolve({ id: 9 });
      await waitIdle();
      assert.deepEqual(ids(destroyed), [9]);
      assert.equal(closing.settled, true);
    });

    it("rejects waiters while a resource is created for the queue, and destroys it", async () => {
      let gate = deferred<Res>();
      const { pool } = setup({ max: 1, create: () => gate.promise });
      const first = pool.acquire();
      gate.resolve({ id: 1 });
      const lease = await first;
      gate = deferred<Res>();
      const waiting = pool.acquire(); // a plain waiter
      await waitIdle();
      await lease.destroy(); // a create for the queue starts
      const closing = pool.close();
      await assert.rejects(waiting, PoolClosedError);
      gate.reject(new Error("aborted by close"));
      await closing;
    });

    it("rejects an acquirer during an async validate; the resource is destroyed", async () => {
      const answer = deferred<boolean>();
      const { pool, destroyed } = setup({ validate: () => answer.promise });
      await (await pool.acquire()).release();
      const acquiring = pool.acquire();
      await waitIdle();
      const closing = pool.close();
      await assert.rejects(acquiring, PoolClosedError);
      answer.resolve(true);
      await closing;
      assert.deepEqual(ids(destroyed), [1]);
    });

    it("waits for destroys in progress", async () => {
      const gate = deferred<void>();
      const { pool } = setup({ destroy: () => gate.promise });
      await (await pool.acquire()).release();
      const closing = track(pool.close());
      await waitIdle();
      assert.equal(closing.settled, false);
      gate.resolve();
      await waitIdle();
      assert.equal(closing.settled, true);
    });

    it("works with await using on the pool", async () => {
      const { pool, destroyed } = setup();
      {
        await using p = pool;
        await (await p.acquire()).release();
      }
      assert.equal(pool.state, "closed");
      assert.deepEqual(ids(destroyed), [1]);
    });
  });

  it("infers the resource type from create (a compile-time check)", async () => {
    const pool = new Pool({
      create: async () => ({ name: "conn" }),
      destroy: (conn) => void conn.name,
      max: 1,
    });
    const lease = await pool.acquire();
    const name: string = lease.value.name;
    await lease.release();
    const length: number = await pool.use((conn) => conn.name.length);
    assert.equal(name, "conn");
    assert.equal(length, 4);
  });

  it("keeps pending as a hidden, deprecated alias of stats.waiting (CONTRIBUTING rule 2)", async () => {
    const { pool } = setup({ max: 1 });
    const lease = await pool.acquire();
    const waiters = [pool.acquire(), pool.acquire()];
    await waitIdle();
    const stats = pool.stats;
    assert.equal(stats.waiting, 2);
    assert.equal(stats.pending, 2, "the old spelling reads the same counter");
    assert.ok(!Object.keys(stats).includes("pending"), "not enumerable");
    assert.ok(!JSON.stringify(stats).includes("pending"), "JSON shows waiting only");
    await lease.release();
    for (const waiter of waiters) await (await waiter).release();
    assert.equal(pool.stats.waiting, 0);
    assert.equal(pool.stats.pending, 0);
  });

  it("shows its state in toString()", async () => {
    const { pool } = setup({ max: 3 });
    const lease = await pool.acquire();
    assert.equal(String(pool), "<Pool open size=1 available=0 borrowed=1 waiting=0 max=3>");
    assert.equal(String(lease), "<Lease active>");
    await lease.release();
    assert.equal(String(lease), "<Lease released>");
  });

  it("returns a new plain snapshot from stats each time", async () => {
    const { pool } = setup();
    const before = pool.stats;
    await (await pool.acquire()).release();
    assert.equal(before.created, 0);
    assert.equal(pool.stats.created, 1);
    assert.notEqual(pool.stats, pool.stats);
  });

  it("handles 10,000 waiters on one resource in order", async () => {
    const { pool } = setup({ max: 1 });
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        pool.use(() => {
          order.push(i);
        }),
      ),
    );
    assert.equal(order.length, 10_000);
    assert.ok(order.every((v, i) => v === i));
    assert.equal(pool.stats.created, 1);
  });
});
