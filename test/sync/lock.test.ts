import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lock } from "../../src/index.js";
import { flush, track } from "./helpers.js";

describe("Lock", () => {
  it("release() on an unlocked lock throws an Error naming the state", () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), {
      name: "Error",
      message: "Cannot release the lock: it is not locked",
    });
  });

  it("release() without the permit hands the lock to the first waiter", async () => {
    const lock = new Lock();
    await lock.acquire();
    const waiter = track(lock.acquire());
    lock.release();
    await flush();
    assert.equal(waiter.status, "fulfilled");
    assert.equal(lock.locked, true);
  });

  it("a permit released after a manual release throws, because the lock is not locked", async () => {
    const lock = new Lock();
    const permit = await lock.acquire();
    lock.release();
    assert.throws(() => permit.release(), /not locked/);
    assert.doesNotThrow(() => permit.release(), "still idempotent");
  });

  it("statistics() is a frozen snapshot", async () => {
    const lock = new Lock();
    assert.deepEqual(lock.statistics(), { locked: false, waiting: 0 });
    const permit = await lock.acquire();
    const waiter = lock.acquire();
    const stats = lock.statistics();
    assert.deepEqual(stats, { locked: true, waiting: 1 });
    assert.equal(Object.isFrozen(stats), true);
    permit.release();
    (await waiter).release();
    assert.deepEqual(stats, { locked: true, waiting: 1 }, "a snapshot does not change");
  });

  it("locked is a read-only property", () => {
    const lock = new Lock();
    assert.throws(() => {
      (lock as { locked: boolean }).locked = true;
    }, TypeError);
  });
});
