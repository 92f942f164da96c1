import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { CancelledError, keyedLimiter, sleep } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("keyedLimiter", () => {
  it("runs at most perKey calls per key and at most concurrency in all, with counters per key", async () => {
    const limit = keyedLimiter<string>({ perKey: 2, concurrency: 3 });
    const g = gate();
    const calls = ["a", "a", "a", "b", "b", "c"].map((key) => limit(key, () => g.promise));
    assert.equal(limit.activeCount, 3);
    assert.equal(limit.activeCountOf("a"), 2);
    assert.equal(limit.activeCountOf("b"), 1);
    assert.equal(limit.pendingCountOf("a"), 1);
    assert.equal(limit.pendingCountOf("b"), 1);
    assert.equal(limit.pendingCountOf("c"), 1);
    assert.equal(limit.pendingCount, 3);
    assert.equal(limit.keyCount, 3);
    assert.equal(limit.activeCountOf("zzz"), 0);
    g.open();
    await Promise.all(calls);
    assert.equal(limit.activeCount, 0);
    assert.equal(limit.pendingCount, 0);
    assert.equal(limit.keyCount, 0);
    assert.equal(limit.perKey, 2);
    assert.equal(limit.concurrency, 3);
  });

  it("a busy key never blocks other keys queued behind it", async () => {
    const limit = keyedLimiter({ perKey: 1 });
    const slow = gate();
    const started: string[] = [];
    const calls = [
      limit("host-a", () => slow.promise),
      limit("host-a", () => {
        started.push("a2");
      }),
      limit("host-b", () => {
        started.push("b1");
      }),
    ];
    await waitIdle();
    assert.deepEqual(started, ["b1"]);
    slow.open();
    await Promise.all(calls);
    assert.deepEqual(started, ["b1", "a2"]);
  });

  it("starts calls first come, first served once their key has room", async () => {
    const limit = keyedLimiter({ perKey: 1, concurrency: 1 });
    const order: string[] = [];
    await Promise.all(
      ["x1", "y1", "x2", "y2", "x3"].map((name) =>
        limit(name[0], async () => {
          order.push(name);
          await waitIdle();
        }),
      ),
    );
    assert.deepEqual(order, ["x1", "y1", "x2", "y2", "x3"]);
  });

  it("a key with no work left holds no memory", async () => {
    const limit = keyedLimiter<object>({ perKey: 1 });
    // The key lives only in this function's frame: once it returns, nothing
    // but the limiter could hold it. (Bun's JSC keeps stale temporaries of a
    // suspended async frame alive, so the key must not be in the test's own.)
    const useKey = async (): Promise<WeakRef<object>> => {
      const key = { tenant: "acme" };
      await Promise.all([limit(key, async () => 1), limit(key, async () => 2)]);
      const controller = new AbortController();
      const g = gate();
      const running = limit(key, () => g.promise);
      const queued = limit(key, () => 3, { signal: controller.signal });
      controller.abort();
      await assert.rejects(queued);
      g.open();
      await running;
      return new WeakRef(key);
    };
    const ref = await useKey();
    assert.equal(limit.keyCount, 0);
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await waitIdle();
      gc();
    }
    assert.equal(ref.deref(), undefined, "the limiter let go of the key");
  });

  it("a queued call's signal removes it (from either queue), rejecting with the reason", async () => {
    const limit = keyedLimiter({ perKey: 1, concurrency: 1 });
    const g = gate();
    const running = limit("a", () => g.promise);
    const keyBlocked = new AbortController();
    const globalBlocked = new AbortController();
    let ran = false;
    const a2 = limit("a", () => (ran = true), { signal: keyBlocked.signal });
    const b1 = limit("b", () => "b", { signal: globalBlocked.signal });
    assert.equal(limit.pendingCount, 2);
    keyBlocked.abort("not needed");
    globalBlocked.abort("nor this");
    await assert.rejects(a2, (e) => e === "not needed");
    await assert.rejects(b1, (e) => e === "nor this");
    assert.equal(limit.pendingCount, 0);
    assert.equal(limit.keyCount, 1);
    assert.equal(getEventListeners(keyBlocked.signal, "abort").length, 0);
    g.open();
    await running;
    assert.equal(ran, false);
    assert.equal(limit.keyCount, 0);
    await assert.rejects(
      limit("a", () => 1, { signal: AbortSignal.abort("x") }),
      (e) => e === "x",
    );
  });

  it("passes the signal to fn and removes the listener when the call starts", async () => {
    const limit = keyedLimiter({ perKey: 1 });
    const controller = new AbortController();
    const got = await limit("k", (signal) => signal, { signal: controller.signal });
    assert.equal(got, controller.signal);
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  });

  it("clearQueue rejects waiting calls with a CancelledError and forgets idle keys", async () => {
    const limit = keyedLimiter({ perKey: 1, concurrency: 1 });
    const g = gate();
    const running = limit("a", () => g.promise);
    const waiting = [limit("a", () => 1), limit("b", () => 2)];
    limit.clearQueue();
    limit.clearQueue();
    for (const call of waiting) await assert.rejects(call, CancelledError);
    assert.equal(limit.pendingCount, 0);
    assert.equal(limit.keyCount, 1);
    g.open();
    await running;
    assert.equal(limit.keyCount, 0);
  });

  it("isolates errors and synchronous throws", async () => {
    const limit = keyedLimiter({ perKey: 1 });
    const results = await Promise.allSettled([
      limit("a", () => {
        throw new Error("sync");
      }),
      limit("a", async () => "after"),
    ]);
    assert.equal(results[0]?.status, "rejected");
    assert.deepEqual(results[1], { status: "fulfilled", value: "after" });
    assert.equal(limit.keyCount, 0);
  });

  it("rejects bad options with TypeErrors", async () => {
    assert.throws(() => keyedLimiter({ perKey: 0 }), /`perKey`/);
    assert.throws(() => keyedLimiter({ perKey: 1, concurrency: 0 }), /`concurrency`/);
    assert.throws(() => keyedLimiter(undefined as unknown as { perKey: number }), TypeError);
    await assert.rejects(keyedLimiter({ perKey: 1 })("k", 3 as unknown as () => void), /`fn`/);
  });

  it("property: per key ≤ perKey, in all ≤ concurrency, counters exact, FIFO per key, every call settles, no key left", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "b", "c"),
            at: fc.integer({ min: 0, max: 30 }),
            ms: fc.integer({ min: 0, max: 20 }),
            abortAt: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
          }),
          { maxLength: 30 },
        ),
        async (perKey, concurrency, calls) => {
          await withVirtualClock(
            async (clock) => {
              const limit = keyedLimiter<string>({ perKey, concurrency });
              const running = new Map<string, number>();
              let total = 0;
              const queuedAt = new Map<string, number[]>(); // per key, in call order
              const startedOf = new Map<string, number[]>();
              const counters = (): void => {
                const keys = ["a", "b", "c"];
                const pending = keys.reduce((sum, key) => sum + limit.pendingCountOf(key), 0);
                assert.equal(pending, limit.pendingCount);
                const active = keys.reduce((sum, key) => sum + limit.activeCountOf(key), 0);
                assert.equal(active, limit.activeCount);
              };
              const tasks = calls.map(async (call, me) => {
                await sleep(call.at);
                const controller = new AbortController();
                const timer =
                  call.abortAt === undefined
                    ? undefined
                    : clock.setTimer(() => controller.abort("aborted"), call.abortAt);
                if (limit.activeCountOf(call.key) + limit.pendingCountOf(call.key) >= perKey) {
                  queuedAt.set(call.key, [...(queuedAt.get(call.key) ?? []), me]);
                }
                try {
                  const done = limit(
                    call.key,
                    async () => {
                      startedOf.set(call.key, [...(startedOf.get(call.key) ?? []), me]);
                      counters();
                      const mine = (running.get(call.key) ?? 0) + 1;
                      running.set(call.key, mine);
                      total++;
                      assert.ok(mine <= perKey);
                      assert.ok(total <= concurrency);
                      assert.equal(limit.activeCountOf(call.key), mine);
                      assert.equal(limit.activeCount, total);
                      await sleep(call.ms);
                      running.set(call.key, (running.get(call.key) ?? 0) - 1);
                      total--;
                    },
                    { signal: controller.signal },
                  );
                  counters();
                  await done;
                } catch (error) {
                  assert.equal(error, "aborted");
                  counters();
                } finally {
                  if (timer !== undefined) clock.clearTimer(timer);
                }
              });
              await Promise.all(tasks);
              assert.equal(limit.activeCount, 0);
              assert.equal(limit.pendingCount, 0);
              assert.equal(limit.keyCount, 0);
              // Calls that queued behind their key start in call order.
              for (const [key, queued] of queuedAt) {
                const started = startedOf.get(key) ?? [];
                const queuedStarts = started.filter((id) => queued.includes(id));
                assert.deepEqual(
                  queuedStarts,
                  queued.filter((id) => started.includes(id)),
                );
              }
            },
            { autoAdvance: true },
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
