/**
 * One suite run over every lock-like (trio's generic lock test): Lock,
 * Semaphore(1), BoundedSemaphore(1) and CapacityLimiter(1) must all behave
 * as a fair, cancellation-safe mutex.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BoundedSemaphore,
  CancelledError,
  CapacityLimiter,
  Lock,
  type LockAcquireOptions,
  type Permit,
  Semaphore,
} from "../../src/index.js";
import { flush, listeners, track } from "./helpers.js";

interface LockLike {
  acquire(options?: LockAcquireOptions): Promise<Permit>;
  run<T>(fn: () => T | PromiseLike<T>, options?: LockAcquireOptions): Promise<Awaited<T>>;
}

interface Kind {
  readonly name: string;
  make(): LockLike;
  /** True when nobody holds it. */
  free(lock: LockLike): boolean;
  waiting(lock: LockLike): number;
}

const kinds: Kind[] = [
  {
    name: "Lock",
    make: () => new Lock(),
    free: (lock) => !(lock as Lock).locked,
    waiting: (lock) => (lock as Lock).statistics().waiting,
  },
  {
    name: "Semaphore(1)",
    make: () => new Semaphore(1),
    free: (lock) => (lock as Semaphore).value === 1 && !(lock as Semaphore).locked,
    waiting: (lock) => (lock as Semaphore).statistics().waiting,
  },
  {
    name: "BoundedSemaphore(1)",
    make: () => new BoundedSemaphore(1),
    free: (lock) => (lock as BoundedSemaphore).value === 1,
    waiting: (lock) => (lock as BoundedSemaphore).statistics().waiting,
  },
  {
    name: "CapacityLimiter(1)",
    make: () => new CapacityLimiter(1),
    free: (lock) => (lock as CapacityLimiter).borrowed === 0,
    waiting: (lock) => (lock as CapacityLimiter).statistics().waiting,
  },
];

for (const kind of kinds) {
  describe(`${kind.name} as a lock`, () => {
    it("is taken at once when free, and the next acquire waits until the permit is released", async () => {
      const lock = kind.make();
      assert.equal(kind.free(lock), true);
      const first = await lock.acquire();
      assert.equal(kind.free(lock), false);
      const second = track(lock.acquire());
      await flush();
      assert.equal(second.status, "pending");
      assert.equal(kind.waiting(lock), 1);
      first.release();
      await flush();
      assert.equal(second.status, "fulfilled");
      assert.equal(kind.free(lock), false, "handed straight to the waiter");
      second.value?.release();
      assert.equal(kind.free(lock), true);
    });

    it("serves waiters first come, first served", async () => {
      const lock = kind.make();
      const order: number[] = [];
      const holder = await lock.acquire();
      const waiters = [0, 1, 2, 3, 4].map((i) =>
        lock.acquire().then((permit) => {
          order.push(i);
          permit.release();
        }),
      );
      holder.release();
      await Promise.all(waiters);
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
      assert.equal(kind.free(lock), true);
    });

    it("does not let a newcomer barge ahead of a waiter that was just granted the lock", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      const waiter = track(lock.acquire());
      holder.release(); // granted to `waiter`, which has not run yet
      const newcomer = track(lock.acquire());
      await flush();
      assert.equal(waiter.status, "fulfilled");
      assert.equal(newcomer.status, "pending");
      waiter.value?.release();
      await flush();
      assert.equal(newcomer.status, "fulfilled");
      newcomer.value?.release();
    });

    it("releases once when one permit is released twice", async () => {
      const lock = kind.make();
      const permit = await lock.acquire();
      const waiters = [track(lock.acquire()), track(lock.acquire())];
      permit.release();
      assert.equal(permit.released, true);
      permit.release();
      permit[Symbol.dispose]();
      await flush();
      assert.deepEqual(
        waiters.map((w) => w.status),
        ["fulfilled", "pending"],
      );
      waiters[0]?.value?.release();
      await flush();
      waiters[1]?.value?.release();
      assert.equal(kind.free(lock), true);
    });

    it("is released at the end of a `using` block, also when the block throws", async () => {
      const lock = kind.make();
      {
        using permit = await lock.acquire();
        assert.equal(permit.released, false);
        assert.equal(kind.free(lock), false);
      }
      assert.equal(kind.free(lock), true);
      const fails = async (): Promise<void> => {
        using _ = await lock.acquire();
        throw new Error("boom");
      };
      await assert.rejects(fails(), /boom/);
      assert.equal(kind.free(lock), true);
    });

    it("run() holds it while fn runs and releases it when fn returns or throws", async () => {
      const lock = kind.make();
      const value = await lock.run(async () => {
        assert.equal(kind.free(lock), false);
        await flush();
        return 42;
      });
      assert.equal(value, 42);
      assert.equal(kind.free(lock), true);
      await assert.rejects(
        lock.run(() => {
          throw new Error("sync boom");
        }),
        /sync boom/,
      );
      await assert.rejects(
        lock.run(() => Promise.reject(new Error("async boom"))),
        /async boom/,
      );
      assert.equal(kind.free(lock), true);
    });

    it("run() serializes concurrent callers", async () => {
      const lock = kind.make();
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          lock.run(async () => {
            inside++;
            most = Math.max(most, inside);
            await flush();
            inside--;
          }),
        ),
      );
      assert.equal(most, 1);
    });

    it("run() rejects a non-function with a TypeError and acquires nothing", async () => {
      const lock = kind.make();
      await assert.rejects(lock.run(42 as unknown as () => void), {
        name: "TypeError",
        message: /`fn`.*42 \(number\)/,
      });
      assert.equal(kind.free(lock), true);
    });

    it("rejects a bad signal with a TypeError", async () => {
      const lock = kind.make();
      await assert.rejects(lock.acquire({ signal: "nope" as unknown as AbortSignal }), {
        name: "TypeError",
        message: /`signal`.*"nope" \(string\)/,
      });
      assert.equal(kind.free(lock), true);
    });

    it("rejects an already-aborted signal at once, even when free, and stays free", async () => {
      const lock = kind.make();
      const reason = new CancelledError("stop");
      await assert.rejects(
        lock.acquire({ signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
      assert.equal(kind.free(lock), true);
      let called = false;
      await assert.rejects(
        lock.run(
          () => {
            called = true;
          },
          { signal: AbortSignal.abort(reason) },
        ),
        (e) => e === reason,
      );
      assert.equal(called, false);
      assert.equal(kind.free(lock), true);
    });

    it("drops a waiter whose signal aborts: it rejects with the reason, leaves no listener, and the lock goes to the next live waiter", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      const controller = new AbortController();
      const aborted = track(lock.acquire({ signal: controller.signal }));
      const live = track(lock.acquire());
      assert.equal(listeners(controller.signal), 1);
      controller.abort("gave up");
      assert.equal(kind.waiting(lock), 1, "left the queue at once");
      assert.equal(listeners(controller.signal), 0);
      holder.release();
      await flush();
      assert.equal(aborted.status, "rejected");
      assert.equal(aborted.reason, "gave up");
      assert.equal(live.status, "fulfilled");
      live.value?.release();
      assert.equal(kind.free(lock), true);
    });

    it("keeps the lock for a waiter granted in the same tick its signal aborts", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      const controller = new AbortController();
      const waiter = track(lock.acquire({ signal: controller.signal }));
      const next = track(lock.acquire());
      holder.release(); // granted
      controller.abort("too late"); // same tick
      await flush();
      assert.equal(waiter.status, "fulfilled", "it got the lock");
      assert.equal(next.status, "pending", "and the lock was not handed on twice");
      assert.equal(listeners(controller.signal), 0);
      waiter.value?.release();
      await flush();
      assert.equal(next.status, "fulfilled", "releasing it passes the lock on");
      next.value?.release();
      assert.equal(kind.free(lock), true);
    });

    it("keeps FIFO order among the live waiters when one in the middle aborts", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      const order: string[] = [];
      const controller = new AbortController();
      const waits = ["a", "b", "c", "d"].map((name) =>
        lock.acquire(name === "b" ? { signal: controller.signal } : {}).then(
          (permit) => {
            order.push(name);
            permit.release();
          },
          () => order.push(`${name} aborted`),
        ),
      );
      controller.abort();
      holder.release();
      await Promise.all(waits);
      assert.deepEqual(order, ["b aborted", "a", "c", "d"]);
    });

    it("run() rejects with the reason when aborted while waiting, and never calls fn", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      const controller = new AbortController();
      let called = false;
      const running = track(
        lock.run(
          () => {
            called = true;
          },
          { signal: controller.signal },
        ),
      );
      controller.abort("cancelled");
      holder.release();
      await flush();
      assert.equal(running.status, "rejected");
      assert.equal(running.reason, "cancelled");
      assert.equal(called, false);
      assert.equal(kind.free(lock), true);
    });

    it("removes its abort listener when granted, at once or after waiting", async () => {
      const lock = kind.make();
      const controller = new AbortController();
      const first = await lock.acquire({ signal: controller.signal });
      assert.equal(listeners(controller.signal), 0);
      const second = lock.acquire({ signal: controller.signal });
      assert.equal(listeners(controller.signal), 1);
      first.release();
      (await second).release();
      assert.equal(listeners(controller.signal), 0);
    });

    it("serves 10,000 waiters in order", async () => {
      const lock = kind.make();
      const holder = await lock.acquire();
      let expected = 0;
      let outOfOrder = 0;
      const waits = Array.from({ length: 10_000 }, (_, i) =>
        lock.acquire().then((permit) => {
          if (i !== expected++) outOfOrder++;
          permit.release();
        }),
      );
      holder.release();
      await Promise.all(waits);
      assert.equal(outOfOrder, 0);
      assert.equal(expected, 10_000);
      assert.equal(kind.free(lock), true);
    });
  });
}
