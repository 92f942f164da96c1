import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { CancelledError, now, sleep } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

describe("sleep", () => {
  it("resolves after the given time on aiokit's clock", async () => {
    await withVirtualClock(async (clock) => {
      let done = false;
      const slept = sleep(30_000).then(() => {
        done = true;
      });
      await clock.advance(29_999);
      assert.equal(done, false);
      await clock.advance(1);
      await slept;
      assert.equal(done, true);
      assert.equal(now(), 30_000);
    });
  });

  it("rejects with the signal's reason and clears its timer and listener", async () => {
    await withVirtualClock(async (clock) => {
      const controller = new AbortController();
      const reason = new CancelledError("stop");
      const slept = sleep(1_000, { signal: controller.signal });
      assert.equal(clock.pendingTimers, 1);
      controller.abort(reason);
      await assert.rejects(slept, (error) => error === reason);
      assert.equal(clock.pendingTimers, 0);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    });
  });

  it("removes its abort listener when it completes", async () => {
    await withVirtualClock(
      async () => {
        const controller = new AbortController();
        await sleep(10, { signal: controller.signal });
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      },
      { autoAdvance: true },
    );
  });

  it("rejects at once for an already aborted signal", async () => {
    await assert.rejects(sleep(10, { signal: AbortSignal.abort("no") }), (error) => error === "no");
  });

  it("rejects bad durations with a TypeError that names the value", async () => {
    await assert.rejects(sleep(-1), { name: "TypeError", message: /`ms`.*-1 \(number\)/ });
    await assert.rejects(sleep(Number.NaN), TypeError);
    await assert.rejects(sleep("5" as unknown as number), /"5" \(string\)/);
  });
});
