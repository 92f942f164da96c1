import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import {
  isCancellation,
  moveOnAfter,
  moveOnAt,
  now,
  shield,
  sleep,
  TimeoutError,
  timeout,
  timeoutAt,
} from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

const auto = { autoAdvance: true } as const;

describe("timeout", () => {
  it("returns fn's value when it finishes in time, and clears its timer", async () => {
    await withVirtualClock(async (clock) => {
      const value = await timeout(100, (signal) => sleep(50, { signal }).then(() => "ok"));
      assert.equal(value, "ok");
      assert.equal(clock.pendingTimers, 0);
    }, auto);
  });

  it("on expiry aborts fn's signal, waits for fn to settle, then rejects with a TimeoutError", async () => {
    await withVirtualClock(async (clock) => {
      const log: string[] = [];
      const p = timeout(30_000, async (signal) => {
        try {
          await sleep(60_000, { signal });
        } finally {
          await sleep(1_000); // cleanup still awaited
          log.push(`cleaned up at ${now()}`);
        }
      });
      const checked = assert.rejects(p, (error) => {
        assert.ok(error instanceof TimeoutError);
        assert.ok(error instanceof DOMException);
        assert.equal((error as DOMException).name, "TimeoutError");
        assert.equal((error as TimeoutError).ms, 30_000);
        return true;
      });
      await clock.advance(30_000);
      assert.deepEqual(log, []);
      await clock.advance(1_000);
      await checked;
      assert.deepEqual(log, ["cleaned up at 31000"]);
    });
  });

  it("rejects with TimeoutError even when fn ignores its signal and finishes late", async () => {
    await withVirtualClock(async () => {
      await assert.rejects(
        timeout(10, () => sleep(20).then(() => "late")),
        TimeoutError,
      );
    }, auto);
  });

  it("passes fn's own errors through, before and after expiry", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("boom");
      await assert.rejects(
        timeout(10, () => Promise.reject(boom)),
        (e) => e === boom,
      );
      const late = new Error("late failure");
      await assert.rejects(
        timeout(10, async (signal) => {
          await sleep(100, { signal }).catch(() => undefined);
          throw late;
        }),
        (e) => e === late,
      );
    }, auto);
  });

  it("an outer cancellation passes through unchanged, not as a TimeoutError", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const p = timeout(1_000, (signal) => sleep(5_000, { signal }), { signal: controller.signal });
      await waitIdle();
      controller.abort("outer");
      await assert.rejects(p, (e) => e === "outer");
    }, auto);
  });

  it("nested timeouts: only the one that expired converts to TimeoutError", async () => {
    await withVirtualClock(async () => {
      const error = await timeout(100, (outer) =>
        timeout(1_000, (inner) => sleep(5_000, { signal: inner }), { signal: outer }),
      ).catch((e: unknown) => e);
      assert.ok(error instanceof TimeoutError);
      assert.equal((error as TimeoutError).ms, 100);
    }, auto);
  });

  it("100,000 calls on one long-lived signal leave no listeners or timers behind", async () => {
    await withVirtualClock(async (clock) => {
      const controller = new AbortController();
      const signal = controller.signal;
      for (let i = 0; i < 100_000; i++) {
        await timeout(1_000, () => i, { signal });
        if (i % 10_000 === 0) assert.ok(getEventListeners(signal, "abort").length <= 1);
      }
      assert.equal(getEventListeners(signal, "abort").length, 0);
      assert.equal(clock.pendingTimers, 0);
    });
  });

  it("memory stays flat over many calls (no retained timers, listeners or controllers)", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const controller = new AbortController();
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await timeout(10_000, () => i, { signal: controller.signal });
    };
    await run(20_000);
    gc?.();
    const before = process.memoryUsage().heapUsed;
    await run(100_000);
    gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    // 100,000 leaked AbortControllers would be ~100 MB; allow noise without gc.
    assert.ok(grown < (gc ? 5e6 : 40e6), `heap grew by ${(grown / 1e6).toFixed(1)} MB`);
  });

  it("rejects bad durations with a TypeError", async () => {
    await assert.rejects(
      timeout(-5, () => 1),
      { name: "TypeError", message: /`ms`.*-5/ },
    );
  });
});

describe("timeoutAt", () => {
  it("uses an absolute deadline on aiokit's clock", async () => {
    await withVirtualClock(
      async (clock) => {
        const p = timeoutAt(1_500, (signal) => sleep(10_000, { signal }));
        const checked = assert.rejects(p, TimeoutError);
        await clock.advance(1_499);
        await clock.advance(1);
        await checked;
      },
      { start: 1_000 },
    );
  });

  it("a deadline already passed expires at once without calling fn", async () => {
    await withVirtualClock(async () => {
      let called = false;
      await assert.rejects(
        timeoutAt(now() - 1, () => {
          called = true;
        }),
        TimeoutError,
      );
      assert.equal(called, false);
    });
  });
});

describe("moveOnAfter / moveOnAt", () => {
  it("resolves undefined on expiry, the value otherwise", async () => {
    await withVirtualClock(async () => {
      assert.equal(
        await moveOnAfter(10, (signal) => sleep(100, { signal }).then(() => "late")),
        undefined,
      );
      assert.equal(
        await moveOnAfter(100, (signal) => sleep(10, { signal }).then(() => "early")),
        "early",
      );
      assert.equal(await moveOnAt(now() + 5, (signal) => sleep(100, { signal })), undefined);
    }, auto);
  });

  it("still rejects with fn's real errors and outer cancellations", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("x");
      await assert.rejects(
        moveOnAfter(10, () => Promise.reject(boom)),
        (e) => e === boom,
      );
      await assert.rejects(
        moveOnAfter(10, () => 1, { signal: AbortSignal.abort("o") }),
        (e) => e === "o",
      );
    }, auto);
  });
});

describe("shield", () => {
  it("fn keeps running when the outer signal aborts; the caller then sees the cancellation", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      let committed = false;
      const p = shield(
        async (signal) => {
          await sleep(100, { signal });
          committed = true;
          return "done";
        },
        { signal: controller.signal },
      );
      await waitIdle();
      controller.abort("cancel");
      await assert.rejects(p, (e) => e === "cancel");
      assert.equal(committed, true);
    }, auto);
  });

  it("returns fn's value when nothing aborts, and fn's error wins over the cancellation", async () => {
    await withVirtualClock(async () => {
      assert.equal(await shield(() => 7), 7);
      const boom = new Error("failed commit");
      await assert.rejects(
        shield(() => Promise.reject(boom), { signal: AbortSignal.abort() }),
        (e) => e === boom,
      );
    }, auto);
  });

  it("inside timeout: the shielded work completes, then the timeout is reported", async () => {
    await withVirtualClock(async () => {
      let finished = false;
      await assert.rejects(
        timeout(10, (signal) =>
          shield(
            async () => {
              await sleep(50);
              finished = true;
            },
            { signal },
          ),
        ),
        TimeoutError,
      );
      assert.equal(finished, true);
    }, auto);
  });
});

describe("isCancellation", () => {
  it("recognises aiokit's and the platform's abort errors, and nothing else", () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(isCancellation(controller.signal.reason), true);
    assert.equal(isCancellation(Object.assign(new Error("x"), { name: "AbortError" })), true);
    assert.equal(isCancellation(new TimeoutError(5)), false);
    assert.equal(isCancellation(new Error("x")), false);
    assert.equal(isCancellation("AbortError"), false);
    assert.equal(isCancellation(null), false);
  });
});
