import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { now, sleep } from "../../src/index.js";
import {
  getClock,
  realClock,
  VirtualClock,
  waitIdle,
  withVirtualClock,
} from "../../src/testing/index.js";

describe("VirtualClock", () => {
  it("fires timers in time order, ties in the order they were set", async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push("b@20"), 20);
    clock.setTimer(() => fired.push("a@10"), 10);
    clock.setTimer(() => fired.push("c@20"), 20);
    await clock.advance(15);
    assert.deepEqual(fired, ["a@10"]);
    assert.equal(clock.now(), 15);
    await clock.advance(5);
    assert.deepEqual(fired, ["a@10", "b@20", "c@20"]);
  });

  it("fires timers that tasks set while time advances, within the same window", async () => {
    await withVirtualClock(async (clock) => {
      const times: number[] = [];
      const loop = (async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(10);
          times.push(now());
        }
      })();
      await clock.advance(30);
      await loop;
      assert.deepEqual(times, [10, 20, 30]);
    });
  });

  it("clearTimer cancels; pendingTimers and nextTimerAt track what is left", async () => {
    const clock = new VirtualClock(100);
    const a = clock.setTimer(() => assert.fail("cleared timer fired"), 5);
    clock.setTimer(() => {}, 7);
    assert.equal(clock.pendingTimers, 2);
    clock.clearTimer(a);
    clock.clearTimer(a);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextTimerAt, 107);
    assert.equal(await clock.next(), true);
    assert.equal(clock.now(), 107);
    assert.equal(await clock.next(), false);
  });

  it("treats a NaN or negative delay as 0, as setTimeout does, without blocking later timers", async () => {
    const clock = new VirtualClock(50);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("nan"), Number.NaN);
    clock.setTimer(() => fired.push("negative"), -5);
    clock.setTimer(() => fired.push("later"), 10);
    assert.equal(clock.nextTimerAt, 50);
    await clock.advance(10);
    assert.deepEqual(fired, ["nan", "negative", "later"]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("runAll stops a runaway timer loop with a clear error", async () => {
    const clock = new VirtualClock();
    const again = (): void => {
      clock.setTimer(again, 1);
    };
    again();
    await assert.rejects(clock.runAll(50), /still has timers after 50 steps/);
  });

  it("install() swaps aiokit's clock and disposing puts the previous one back", () => {
    const before = getClock();
    {
      using _ = new VirtualClock(5).install();
      assert.equal(now(), 5);
    }
    assert.equal(getClock(), before);
  });

  it("withVirtualClock restores the real clock even when the test throws", async () => {
    await assert.rejects(
      withVirtualClock(() => {
        throw new Error("test failed");
      }),
      /test failed/,
    );
    assert.equal(getClock(), realClock);
  });

  it("autoAdvance jumps over idle time: an hour of sleeps runs at once", async () => {
    const started = performance.now();
    await withVirtualClock(
      async () => {
        for (let i = 0; i < 60; i++) await sleep(60_000);
        assert.equal(now(), 3_600_000);
      },
      { autoAdvance: true },
    );
    assert.ok(performance.now() - started < 5_000);
  });

  it("waitIdle lets every queued microtask run", async () => {
    let depth = 0;
    const chain = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await Promise.resolve();
        depth++;
      }
    };
    void chain(100);
    await waitIdle();
    assert.equal(depth, 100);
  });
});

describe("realClock", () => {
  it("does not fire a timer longer than setTimeout's 2^31-1 ms limit at once", async () => {
    let fired = false;
    const handle = realClock.setTimer(() => {
      fired = true;
    }, 3_000_000_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(fired, false);
    realClock.clearTimer(handle);
  });

  it("is monotonic", () => {
    const a = realClock.now();
    const b = realClock.now();
    assert.ok(b >= a);
  });
});

describe("VirtualClock edge cases", () => {
  it("never fires an infinite wait, and refuses to go back in time", async () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimer(() => {
      fired = true;
    }, Number.POSITIVE_INFINITY);
    await clock.runAll();
    assert.equal(fired, false);
    assert.equal(clock.now(), 0);
    await assert.rejects(clock.advance(-1), RangeError);
    await assert.rejects(clock.advanceTo(Number.NaN), TypeError);
  });
});
