import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CapacityLimiter } from "../../src/index.js";
import { flush, track } from "./helpers.js";

describe("CapacityLimiter", () => {
  it("reports borrowed and available as tokens are taken and given back", async () => {
    const limiter = new CapacityLimiter(3);
    assert.equal(limiter.totalTokens, 3);
    assert.equal(limiter.borrowed, 0);
    assert.equal(limiter.available, 3);
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    assert.equal(limiter.borrowed, 2);
    assert.equal(limiter.available, 1);
    a.release();
    b.release();
    assert.equal(limiter.borrowed, 0);
    assert.equal(limiter.available, 3);
  });

  it("raising totalTokens grants tokens to waiters at once, in order", async () => {
    const limiter = new CapacityLimiter(1);
    const held = await limiter.acquire();
    const waiters = [track(limiter.acquire()), track(limiter.acquire()), track(limiter.acquire())];
    limiter.totalTokens = 3;
    assert.equal(limiter.borrowed, 3, "granted synchronously");
    await flush();
    assert.deepEqual(
      waiters.map((w) => w.status),
      ["fulfilled", "fulfilled", "pending"],
    );
    held.release();
    await flush();
    assert.equal(waiters[2]?.status, "fulfilled");
    assert.equal(limiter.statistics().waiting, 0);
  });

  it("lowering totalTokens takes nothing back but admits nobody until enough are returned", async () => {
    const limiter = new CapacityLimiter(3);
    const held = [await limiter.acquire(), await limiter.acquire(), await limiter.acquire()];
    limiter.totalTokens = 1;
    assert.equal(limiter.borrowed, 3);
    assert.equal(limiter.available, 0, "never negative");
    const waiter = track(limiter.acquire());
    held[0]?.release();
    held[1]?.release();
    await flush();
    assert.equal(waiter.status, "pending", "still 1 borrowed of 1");
    held[2]?.release();
    await flush();
    assert.equal(waiter.status, "fulfilled");
    assert.equal(limiter.borrowed, 1);
  });

  it("accepts Infinity", async () => {
    const limiter = new CapacityLimiter(Number.POSITIVE_INFINITY);
    const permits = await Promise.all(Array.from({ length: 100 }, () => limiter.acquire()));
    assert.equal(limiter.borrowed, 100);
    assert.equal(limiter.available, Number.POSITIVE_INFINITY);
    for (const p of permits) p.release();
  });

  it("release() with nothing borrowed throws an Error naming the state", () => {
    const limiter = new CapacityLimiter(1);
    assert.throws(() => limiter.release(), {
      name: "Error",
      message: "Cannot release a token of the capacity limiter: no token is borrowed",
    });
  });

  it("rejects a bad totalTokens in the constructor and the setter, keeping the old value", () => {
    assert.throws(() => new CapacityLimiter(0), {
      name: "TypeError",
      message: "Expected `totalTokens` to be an integer from 1 and up, got 0 (number)",
    });
    assert.throws(() => new CapacityLimiter(2.5), TypeError);
    assert.throws(() => new CapacityLimiter(undefined as unknown as number), TypeError);
    const limiter = new CapacityLimiter(2);
    assert.throws(() => {
      limiter.totalTokens = -1;
    }, TypeError);
    assert.equal(limiter.totalTokens, 2);
  });

  it("borrowed and available are read-only; totalTokens is settable", () => {
    const limiter = new CapacityLimiter(2);
    assert.throws(() => {
      (limiter as { borrowed: number }).borrowed = 1;
    }, TypeError);
    assert.throws(() => {
      (limiter as { available: number }).available = 1;
    }, TypeError);
    limiter.totalTokens = 5;
    assert.equal(limiter.totalTokens, 5);
  });

  it("a waiter aborted before totalTokens is raised takes no token", async () => {
    const limiter = new CapacityLimiter(1);
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = track(limiter.acquire({ signal: controller.signal }));
    const live = track(limiter.acquire());
    controller.abort();
    limiter.totalTokens = 2;
    await flush();
    assert.equal(aborted.status, "rejected");
    assert.equal(live.status, "fulfilled");
    assert.equal(limiter.borrowed, 2);
  });

  it("statistics() reports borrowed, totalTokens and waiters", async () => {
    const limiter = new CapacityLimiter(1);
    await limiter.acquire();
    void limiter.acquire();
    assert.deepEqual(limiter.statistics(), { borrowed: 1, totalTokens: 1, waiting: 1 });
  });
});
