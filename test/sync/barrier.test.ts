import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Barrier, BrokenBarrierError } from "../../src/index.js";
import { flush, listeners, track } from "./helpers.js";

describe("Barrier", () => {
  it("lets everyone through when the last party arrives, with arrival indices", async () => {
    const barrier = new Barrier(3);
    const a = track(barrier.wait());
    const b = track(barrier.wait());
    await flush();
    assert.equal(a.status, "pending");
    assert.equal(barrier.nWaiting, 2);
    const c = await barrier.wait();
    await flush();
    assert.deepEqual([a.value, b.value, c], [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
  });

  it("is reusable round after round", async () => {
    const barrier = new Barrier(2);
    for (let round = 0; round < 3; round++) {
      const indices = await Promise.all([barrier.wait(), barrier.wait()]);
      assert.deepEqual(indices, [0, 1]);
    }
  });

  it("Barrier(1) never waits", async () => {
    const barrier = new Barrier(1);
    assert.equal(await barrier.wait(), 0);
    assert.equal(await barrier.wait(), 0);
  });

  it("abort() breaks it: waiters and later arrivals reject with BrokenBarrierError until reset()", async () => {
    const barrier = new Barrier(3);
    const a = track(barrier.wait());
    barrier.abort();
    assert.equal(barrier.broken, true);
    await flush();
    assert.equal(a.status, "rejected");
    assert.ok(a.reason instanceof BrokenBarrierError);
    assert.equal((a.reason as Error).message, "The barrier was aborted");
    await assert.rejects(barrier.wait(), {
      name: "BrokenBarrierError",
      message: "Cannot wait on the barrier: it is broken",
    });
    barrier.abort(); // idempotent
    barrier.reset();
    assert.equal(barrier.broken, false);
    assert.deepEqual(
      await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]),
      [0, 1, 2],
    );
  });

  it("reset() rejects the current waiters and starts an empty round", async () => {
    const barrier = new Barrier(2);
    const a = track(barrier.wait());
    barrier.reset();
    await flush();
    assert.equal(a.status, "rejected");
    assert.ok(a.reason instanceof BrokenBarrierError);
    assert.equal(barrier.broken, false);
    const b = track(barrier.wait());
    await flush();
    assert.equal(b.status, "pending", "a's arrival no longer counts");
    assert.equal(await barrier.wait(), 1);
  });

  it("an aborted waiter leaves the round without breaking the barrier", async () => {
    const barrier = new Barrier(3);
    const controller = new AbortController();
    const a = track(barrier.wait());
    const b = track(barrier.wait({ signal: controller.signal }));
    controller.abort("left");
    assert.equal(barrier.nWaiting, 1);
    assert.equal(listeners(controller.signal), 0);
    const c = track(barrier.wait());
    await flush();
    assert.equal(b.status, "rejected");
    assert.equal(b.reason, "left");
    assert.equal(c.status, "pending", "still two of three");
    assert.equal(barrier.broken, false);
    const d = await barrier.wait();
    await flush();
    assert.deepEqual([a.value, c.value, d], [0, 1, 2], "indices stay unique");
  });

  it("a waiter whose round passed in the same tick its signal aborts gets its index", async () => {
    const barrier = new Barrier(2);
    const controller = new AbortController();
    const a = track(barrier.wait({ signal: controller.signal }));
    const b = track(barrier.wait());
    controller.abort();
    await flush();
    assert.deepEqual([a.status, a.value, b.value], ["fulfilled", 0, 1]);
  });

  it("an already-aborted signal rejects at once without arriving", async () => {
    const barrier = new Barrier(2);
    await assert.rejects(barrier.wait({ signal: AbortSignal.abort("no") }), (e) => e === "no");
    assert.equal(barrier.nWaiting, 0);
  });

  it("rejects bad parties with a TypeError", () => {
    assert.throws(() => new Barrier(0), {
      name: "TypeError",
      message: "Expected `parties` to be an integer from 1 and up, got 0 (number)",
    });
    assert.throws(() => new Barrier(Number.POSITIVE_INFINITY), TypeError);
  });

  it("parties, nWaiting and broken are read-only; statistics() snapshots them", async () => {
    const barrier = new Barrier(2);
    assert.equal(barrier.parties, 2);
    assert.throws(() => {
      (barrier as { broken: boolean }).broken = true;
    }, TypeError);
    void barrier.wait();
    assert.deepEqual(barrier.statistics(), { parties: 2, waiting: 1, broken: false });
  });
});
