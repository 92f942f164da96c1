import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CancelledError, limiter, sleep } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("limiter", () => {
  it("runs at most `concurrency` calls at once and resolves each to its result", async () => {
    const limit = limiter(2);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limit(async () => {
          running++;
          most = Math.max(most, running);
          await waitIdle();
          running--;
          return i * 2;
        }),
      ),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 10 }, (_, i) => i * 2),
    );
    assert.equal(most, 2);
  });

  it("keeps activeCount and pendingCount exact at every step, before the caller resumes", async () => {
    const limit = limiter(2);
    const gates = [deferred(), deferred(), deferred()];
    const seen: [number, number][] = [];
    const calls = gates.map((gate) => limit(() => gate.promise));
    assert.equal(limit.activeCount, 2);
    assert.equal(limit.pendingCount, 1);
    const first = calls[0]?.then(() => seen.push([limit.activeCount, limit.pendingCount]));
    gates[0]?.resolve();
    await first;
    // The caller resumes after its call was counted out and the next one started.
    assert.deepEqual(seen, [[2, 0]]);
    gates[1]?.resolve();
    gates[2]?.resolve();
    await Promise.all(calls);
    assert.equal(limit.activeCount, 0);
    assert.equal(limit.pendingCount, 0);
  });

  it("starts queued calls first come, first served", async () => {
    const limit = limiter(1);
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        limit(async () => {
          order.push(i);
          await waitIdle();
        }),
      ),
    );
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it("starts queued work at once (synchronously) when concurrency goes up", async () => {
    const limit = limiter(1);
    const gate = deferred();
    const started: number[] = [];
    const calls = [0, 1, 2, 3].map((i) =>
      limit(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    assert.deepEqual(started, [0]);
    limit.concurrency = 3;
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(limit.activeCount, 3);
    assert.equal(limit.pendingCount, 1);
    limit.concurrency = 1; // lowering lets running calls finish
    gate.resolve();
    await Promise.all(calls);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(limit.concurrency, 1);
  });

  it("rejects a bad concurrency with a TypeError naming the value", () => {
    assert.throws(() => limiter(0), { name: "TypeError", message: /`concurrency`.*0 \(number\)/ });
    assert.throws(() => limiter(1.5), TypeError);
    const limit = limiter(1);
    assert.throws(() => {
      limit.concurrency = -1;
    }, TypeError);
    assert.equal(limit.concurrency, 1);
  });

  it("rejects (never throws) a call whose fn is not a function", async () => {
    const limit = limiter(1);
    await assert.rejects(limit(42 as unknown as () => void), { name: "TypeError" });
    assert.equal(limit.activeCount, 0);
  });

  it("handles synchronous results and throws without losing a slot", async () => {
    const limit = limiter(1);
    assert.equal(await limit(() => 7), 7);
    await assert.rejects(
      limit(() => {
        throw new Error("sync");
      }),
      /sync/,
    );
    assert.equal(limit.activeCount, 0);
    // A long run of synchronous throws neither recurses nor leaks slots.
    const calls = Array.from({ length: 10_000 }, () =>
      limit(() => {
        throw new Error("x");
      }).catch(() => "caught"),
    );
    assert.equal((await Promise.all(calls)).length, 10_000);
    assert.equal(limit.activeCount, 0);
    assert.equal(limit.pendingCount, 0);
  });

  it("rejects only the failing call; the others go on", async () => {
    const limit = limiter(2);
    const results = await Promise.allSettled([
      limit(async () => 1),
      limit(async () => {
        throw new Error("boom");
      }),
      limit(async () => 3),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
  });

  describe("per-call signal", () => {
    it("removes a queued call when it aborts, rejecting with the reason", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const running = limit(() => gate.promise);
      const controller = new AbortController();
      let called = false;
      const queued = limit(
        () => {
          called = true;
        },
        { signal: controller.signal },
      );
      assert.equal(limit.pendingCount, 1);
      const reason = new CancelledError("no longer needed");
      controller.abort(reason);
      assert.equal(limit.pendingCount, 0);
      await assert.rejects(queued, (error) => error === reason);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      gate.resolve();
      await running;
      assert.equal(called, false);
      assert.equal(limit.activeCount, 0);
    });

    it("removes its listener when the call starts, and passes the signal to fn", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const running = limit(() => gate.promise);
      const controller = new AbortController();
      let received: AbortSignal | undefined;
      const queued = limit(
        (signal) => {
          received = signal;
          return "ran";
        },
        { signal: controller.signal },
      );
      assert.equal(getEventListeners(controller.signal, "abort").length, 1);
      gate.resolve();
      assert.equal(await queued, "ran");
      await running;
      assert.equal(received, controller.signal);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    });

    it("rejects at once for an already aborted signal without queueing", async () => {
      const limit = limiter(1);
      await assert.rejects(
        limit(() => 1, { signal: AbortSignal.abort("gone") }),
        (e) => e === "gone",
      );
      assert.equal(limit.pendingCount, 0);
      await assert.rejects(
        limit(() => 1, { signal: "no" as unknown as AbortSignal }),
        TypeError,
      );
    });

    it("an aborted queued call never blocks the calls behind it", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const running = limit(() => gate.promise);
      const controller = new AbortController();
      const aborted = limit(() => "never", { signal: controller.signal });
      const behind = limit(() => "behind");
      controller.abort();
      await assert.rejects(aborted);
      gate.resolve();
      assert.equal(await behind, "behind");
      await running;
    });
  });

  describe("clearQueue", () => {
    it("rejects every queued call with a CancelledError; running calls go on; idempotent", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const running = limit(() => gate.promise.then(() => "done"));
      const controller = new AbortController();
      const queued = [limit(() => 1), limit(() => 2, { signal: controller.signal })];
      limit.clearQueue();
      limit.clearQueue();
      assert.equal(limit.pendingCount, 0);
      assert.equal(limit.activeCount, 1);
      for (const call of queued) await assert.rejects(call, CancelledError);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      gate.resolve();
      assert.equal(await running, "done");
    });
  });

  describe("a long queue (calls parked behind shared gates)", () => {
    it("keeps FIFO order, exact counts and results across thousands of queued calls", async () => {
      const limit = limiter(3);
      const n = 5_000;
      const order: number[] = [];
      const calls = Array.from({ length: n }, (_, i) =>
        limit(async () => {
          order.push(i);
          await null;
          return i;
        }),
      );
      assert.equal(limit.activeCount, 3);
      assert.equal(limit.pendingCount, n - 3);
      const results = await Promise.all(calls);
      assert.deepEqual(
        results,
        Array.from({ length: n }, (_, i) => i),
      );
      assert.deepEqual(order, results);
      assert.equal(limit.pendingCount, 0);
    });

    it("raising concurrency far starts parked calls too, within the turn", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const calls = Array.from({ length: 5_000 }, () => limit(() => gate.promise));
      limit.concurrency = 3_000;
      assert.ok(limit.activeCount > 1, "the ready ones start synchronously");
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(limit.activeCount, 3_000);
      assert.equal(limit.pendingCount, 2_000);
      gate.resolve();
      await Promise.all(calls);
      assert.equal(limit.activeCount, 0);
    });

    it("handles signals and clearQueue for parked calls", async () => {
      const limit = limiter(1);
      const gate = deferred();
      const running = limit(() => gate.promise);
      const controllers = Array.from({ length: 3_000 }, () => new AbortController());
      const calls = controllers.map((controller, i) =>
        limit(() => i, i % 2 === 0 ? { signal: controller.signal } : undefined),
      );
      assert.equal(limit.pendingCount, 3_000);
      // Abort one deep in the parked tier: it rejects at once.
      controllers[2_500]?.abort("deep");
      await assert.rejects(calls[2_500] as Promise<number>, (e) => e === "deep");
      assert.equal(limit.pendingCount, 2_999);
      limit.clearQueue();
      assert.equal(limit.pendingCount, 0);
      const settled = await Promise.allSettled(calls);
      assert.ok(settled.every((r) => r.status === "rejected"));
      for (const controller of controllers) {
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      }
      gate.resolve();
      await running;
      // Still works afterwards, in order.
      const after = await Promise.all([limit(() => "a"), limit(() => "b")]);
      assert.deepEqual(after, ["a", "b"]);
    });
  });

  it("property: long queues (parked groups between calls with signals) keep FIFO, exact counts and clean listeners", async () => {
    const op = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("burst" as const),
          n: fc.integer({ min: 1, max: 900 }),
          // Which calls carry a signal: none, every k-th, or runs of k.
          signals: fc.oneof(
            fc.constant("none" as const),
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 5, max: 700 }),
          ),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("concurrency" as const),
          value: fc.integer({ min: 1, max: 700 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("finish" as const),
          k: fc.integer({ min: 1, max: 800 }),
          flush: fc.boolean(),
        }),
      },
    );
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(op, { minLength: 1, maxLength: 12 }),
        async (initial, ops) => {
          const limit = limiter(initial);
          const running: { id: number; done: () => void }[] = [];
          const starts: number[] = [];
          const queued: number[] = [];
          const rejected = new Set<number>();
          const controllers = new Map<number, AbortController>(); // of the calls queued now
          const signals: AbortSignal[] = [];
          const calls: Promise<unknown>[] = [];
          let id = 0;
          for (const o of ops) {
            if (o.kind === "burst") {
              for (let i = 0; i < o.n; i++) {
                const me = id++;
                const withSignal =
                  o.signals !== "none" &&
                  (o.signals <= 4 ? i % o.signals === 0 : Math.floor(i / o.signals) % 2 === 0);
                const controller = withSignal ? new AbortController() : undefined;
                if (controller !== undefined) {
                  controllers.set(me, controller);
                  signals.push(controller.signal);
                }
                if (limit.activeCount >= limit.concurrency || limit.pendingCount > 0) {
                  queued.push(me);
                }
                const call = limit(
                  (signal) => {
                    assert.ok(running.length < limit.concurrency, "never over the limit");
                    assert.equal(signal === controller?.signal, withSignal);
                    starts.push(me);
                    controllers.delete(me);
                    return new Promise<void>((resolve) => running.push({ id: me, done: resolve }));
                  },
                  controller === undefined ? undefined : { signal: controller.signal },
                );
                calls.push(call.catch(() => rejected.add(me)));
              }
            } else if (o.kind === "abort") {
              const ids = [...controllers.keys()];
              const victim = ids[o.pick % Math.max(1, ids.length)];
              if (victim !== undefined) {
                const pending = limit.pendingCount;
                (controllers.get(victim) as AbortController).abort("aborted");
                controllers.delete(victim);
                assert.equal(limit.pendingCount, pending - 1, "an abort leaves at once");
              }
            } else if (o.kind === "concurrency") {
              limit.concurrency = o.value;
            } else if (o.kind === "clear") {
              limit.clearQueue();
              assert.equal(limit.pendingCount, 0);
              controllers.clear(); // none of them is queued any more
            } else {
              for (const call of running.splice(0, o.k)) call.done();
              if (o.flush) await turn();
            }
            await turn();
            assert.equal(limit.activeCount, running.length);
          }
          // Let everything still queued run to the end.
          limit.concurrency = Number.POSITIVE_INFINITY;
          while (running.length > 0 || limit.pendingCount > 0) {
            for (const call of running.splice(0)) call.done();
            await turn();
          }
          await Promise.all(calls);
          assert.equal(limit.activeCount, 0);
          assert.equal(limit.pendingCount, 0);
          for (let i = 0; i < id; i++) {
            assert.notEqual(starts.includes(i), rejected.has(i), `call ${i} ran or was removed`);
          }
          const started = new Set(starts);
          const queuedStarts = starts.filter((s) => queued.includes(s));
          assert.deepEqual(
            queuedStarts,
            queued.filter((s) => started.has(s)),
            "queued calls start in call order",
          );
          for (const signal of signals) assert.equal(getEventListeners(signal, "abort").length, 0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("property: never over the limit, exact counts, FIFO starts among live calls, every call settles", async () => {
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("call" as const),
          duration: fc.integer({ min: 0, max: 20 }),
          abortAfter: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("concurrency" as const),
          value: fc.integer({ min: 1, max: 4 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("wait" as const),
          ms: fc.integer({ min: 0, max: 10 }),
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(op, { maxLength: 40 }),
        async (initial, ops) => {
          await withVirtualClock(
            async (clock) => {
              const limit = limiter(initial);
              let running = 0;
              const starts: number[] = [];
              const queuedOrder: number[] = [];
              const settled: Promise<unknown>[] = [];
              const removed = new Set<number>();
              // A call starts only while fewer than `concurrency` run.
              const check = (): void => {
                assert.ok(running <= limit.concurrency);
                assert.equal(limit.activeCount, running);
              };
              let id = 0;
              for (const o of ops) {
                if (o.kind === "call") {
                  const me = id++;
                  const controller = new AbortController();
                  const queuedNow =
                    limit.activeCount >= limit.concurrency || limit.pendingCount > 0;
                  if (queuedNow) queuedOrder.push(me);
                  const call = limit(
                    async (signal) => {
                      running++;
                      starts.push(me);
                      check();
                      await sleep(o.duration).finally(() => {
                        running--;
                      });
                      assert.ok(signal instanceof AbortSignal);
                    },
                    { signal: controller.signal },
                  );
                  settled.push(
                    call.catch((error: unknown) => {
                      removed.add(me);
                      assert.ok(error instanceof CancelledError || error === "aborted");
                    }),
                  );
                  if (o.abortAfter !== undefined) {
                    void sleep(o.abortAfter).then(() => controller.abort("aborted"));
                  }
                } else if (o.kind === "concurrency") {
                  limit.concurrency = o.value;
                } else if (o.kind === "clear") {
                  limit.clearQueue();
                  assert.equal(limit.pendingCount, 0);
                } else {
                  await clock.advance(o.ms);
                }
                assert.equal(limit.activeCount, running);
              }
              await clock.runAll();
              await Promise.all(settled);
              assert.equal(limit.activeCount, 0);
              assert.equal(limit.pendingCount, 0);
              // Queued calls that ran started in the order they were queued.
              const queuedStarts = starts.filter((s) => queuedOrder.includes(s));
              const expected = queuedOrder.filter((s) => queuedStarts.includes(s));
              assert.deepEqual(queuedStarts, expected);
              // Every call either ran or was removed before it started, never both.
              for (let i = 0; i < id; i++) assert.notEqual(starts.includes(i), removed.has(i));
            },
            { autoAdvance: false },
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
