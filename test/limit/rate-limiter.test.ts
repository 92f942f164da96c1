import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { RateLimiter, sleep } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

describe("RateLimiter", () => {
  it("grants `limit` starts at once, then one as each start leaves the sliding window", async () => {
    await withVirtualClock(async (clock) => {
      const rate = new RateLimiter({ limit: 2, interval: 1_000 });
      const granted: number[] = [];
      const calls = Array.from({ length: 5 }, () =>
        rate.acquire().then(() => granted.push(clock.now())),
      );
      await clock.advance(0);
      assert.deepEqual(granted, [0, 0]);
      assert.equal(rate.pendingCount, 3);
      await clock.advance(999);
      assert.deepEqual(granted, [0, 0]);
      await clock.advance(1);
      assert.deepEqual(granted, [0, 0, 1_000, 1_000]);
      await clock.advance(1_000);
      await Promise.all(calls);
      assert.deepEqual(granted, [0, 0, 1_000, 1_000, 2_000]);
      assert.equal(clock.pendingTimers, 0);
    });
  });

  it("slides: a start is allowed `interval` ms after the start `limit` places back", async () => {
    await withVirtualClock(async (clock) => {
      const rate = new RateLimiter({ limit: 2, interval: 100 });
      assert.equal(rate.tryAcquire(), true); // t=0
      await clock.advance(60);
      assert.equal(rate.tryAcquire(), true); // t=60
      assert.equal(rate.tryAcquire(), false);
      await clock.advance(40); // t=100: the start at 0 left the window
      assert.equal(rate.tryAcquire(), true);
      assert.equal(rate.tryAcquire(), false);
      await clock.advance(59);
      assert.equal(rate.tryAcquire(), false);
      await clock.advance(1); // t=160
      assert.equal(rate.tryAcquire(), true);
    });
  });

  it("serves waiters first come, first served; tryAcquire never jumps the queue", async () => {
    await withVirtualClock(async (clock) => {
      const rate = new RateLimiter({ limit: 1, interval: 10 });
      assert.equal(rate.tryAcquire(), true);
      const order: number[] = [];
      const calls = [1, 2, 3].map((i) => rate.acquire().then(() => order.push(i)));
      await clock.advance(10);
      assert.equal(rate.tryAcquire(), false);
      await clock.runAll();
      await Promise.all(calls);
      assert.deepEqual(order, [1, 2, 3]);
    });
  });

  it("an aborted waiter leaves at once: rejects with the reason, removes its listener, and clears the timer when nobody waits", async () => {
    await withVirtualClock(async (clock) => {
      const rate = new RateLimiter({ limit: 1, interval: 1_000 });
      await rate.acquire();
      const controller = new AbortController();
      const waiting = rate.acquire({ signal: controller.signal });
      assert.equal(clock.pendingTimers, 1);
      assert.equal(getEventListeners(controller.signal, "abort").length, 1);
      controller.abort("stop");
      await assert.rejects(waiting, (e) => e === "stop");
      assert.equal(rate.pendingCount, 0);
      assert.equal(clock.pendingTimers, 0);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      // The aborted waiter took nothing: the next start is on time.
      const next = rate.acquire();
      await clock.advance(1_000);
      await next;
      assert.equal(clock.now(), 1_000);
    });
  });

  it("a granted waiter's listener is removed; an already aborted signal rejects at once", async () => {
    await withVirtualClock(
      async () => {
        const rate = new RateLimiter({ limit: 1, interval: 5 });
        const controller = new AbortController();
        await rate.acquire({ signal: controller.signal });
        await rate.acquire({ signal: controller.signal });
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
        await assert.rejects(rate.acquire({ signal: AbortSignal.abort("no") }), (e) => e === "no");
        assert.equal(rate.pendingCount, 0);
      },
      { autoAdvance: true },
    );
  });

  it("run(fn) waits for a turn, then calls fn(signal) and returns its result", async () => {
    await withVirtualClock(
      async (clock) => {
        const rate = new RateLimiter({ limit: 1, interval: 50 });
        const controller = new AbortController();
        const results = await Promise.all([
          rate.run((signal) => [clock.now(), signal === controller.signal], {
            signal: controller.signal,
          }),
          rate.run(async () => clock.now()),
        ]);
        assert.deepEqual(results, [[0, true], 50]);
        await assert.rejects(
          rate.run(() => {
            throw new Error("inside");
          }),
          /inside/,
        );
      },
      { autoAdvance: true },
    );
  });

  it("Infinity as the limit never waits", () => {
    const rate = new RateLimiter({ limit: Number.POSITIVE_INFINITY, interval: 1_000 });
    for (let i = 0; i < 1_000; i++) assert.equal(rate.tryAcquire(), true);
  });

  it("rejects bad options with TypeErrors naming the value", async () => {
    assert.throws(() => new RateLimiter({ limit: 0, interval: 10 }), /`limit`.*0 \(number\)/);
    assert.throws(() => new RateLimiter({ limit: 1.5, interval: 10 }), TypeError);
    assert.throws(() => new RateLimiter({ limit: 1, interval: -1 }), /`interval`/);
    assert.throws(
      () => new RateLimiter(undefined as unknown as { limit: number; interval: number }),
      TypeError,
    );
    const rate = new RateLimiter({ limit: 1, interval: 1 });
    await assert.rejects(rate.acquire({ signal: 1 as unknown as AbortSignal }), TypeError);
    await assert.rejects(rate.run(null as unknown as () => void), /`fn`/);
  });

  it("property: over any window of `interval` ms never more than `limit` starts, each at the earliest allowed moment, FIFO", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 200 }),
            abortAfter: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          }),
          { maxLength: 30 },
        ),
        async (limit, interval, requests) => {
          await withVirtualClock(
            async (clock) => {
              const rate = new RateLimiter({ limit, interval });
              const sorted = [...requests].sort((a, b) => a.at - b.at);
              const grants: { id: number; at: number }[] = [];
              const queueOrder: number[] = [];
              const tasks = sorted.map(async (request, id) => {
                await sleep(request.at);
                const controller = new AbortController();
                const timer =
                  request.abortAfter === undefined
                    ? undefined
                    : clock.setTimer(() => controller.abort("aborted"), request.abortAfter);
                queueOrder.push(id);
                try {
                  await rate.acquire({ signal: controller.signal });
                  grants.push({ id, at: clock.now() });
                } catch (error) {
                  assert.equal(error, "aborted");
                } finally {
                  if (timer !== undefined) clock.clearTimer(timer);
                }
              });
              await Promise.all(tasks);
              const times = grants.map((g) => g.at);
              // Window: a start `limit` places later is at least `interval` ms later.
              for (let i = 0; i + limit < times.length; i++) {
                assert.ok(
                  (times[i + limit] as number) - (times[i] as number) >= interval,
                  `starts ${times.join(",")} break the window`,
                );
              }
              // FIFO among the granted ones.
              const granted = grants.map((g) => g.id);
              assert.deepEqual(
                granted,
                queueOrder.filter((id) => granted.includes(id)),
              );
              // Exact: each start happens as early as the window allows (not later).
              for (let i = 0; i < grants.length; i++) {
                const g = grants[i] as { id: number; at: number };
                const arrival = (sorted[g.id] as { at: number }).at;
                const prev = i > 0 ? (grants[i - 1] as { at: number }).at : 0;
                const windowFree =
                  i >= limit ? (grants[i - limit] as { at: number }).at + interval : 0;
                assert.equal(g.at, Math.max(arrival, prev, windowFree));
              }
              assert.equal(rate.pendingCount, 0);
              assert.equal(clock.pendingTimers, 0);
            },
            { autoAdvance: true },
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
