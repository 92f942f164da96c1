import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sleep, taskGroup, wait } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

const auto = { autoAdvance: true } as const;

describe("wait", () => {
  it("ALL_COMPLETED (default) returns when every task is done", async () => {
    await withVirtualClock(async () => {
      await taskGroup(async (tg) => {
        const a = tg.spawn(() => sleep(10));
        const b = tg.spawn(() => sleep(20));
        const { done, pending } = await wait([a, b]);
        assert.deepEqual(
          [...done].sort((x, y) => x.id - y.id),
          [a, b],
        );
        assert.equal(pending.size, 0);
      });
    }, auto);
  });

  it("FIRST_COMPLETED returns the first finished and leaves the rest running", async () => {
    await withVirtualClock(async () => {
      await taskGroup(async (tg) => {
        const fast = tg.spawn(() => sleep(10));
        const slow = tg.spawn((signal) => sleep(1_000, { signal }));
        const { done, pending } = await wait([slow, fast], { returnWhen: "FIRST_COMPLETED" });
        assert.deepEqual([...done], [fast]);
        assert.deepEqual([...pending], [slow]);
        assert.equal(slow.state, "pending");
        slow.cancel();
      });
    }, auto);
  });

  it("FIRST_EXCEPTION returns on the first failure; a cancelled task is not a failure", async () => {
    await withVirtualClock(async () => {
      const ps = [
        sleep(5).then(() => 1),
        sleep(10).then(() => Promise.reject(new Error("x"))),
        sleep(100),
      ];
      const { done, pending } = await wait(ps, { returnWhen: "FIRST_EXCEPTION" });
      assert.equal(done.size, 2);
      assert.equal(pending.size, 1);
      await taskGroup(async (tg) => {
        const cancelled = tg.spawn((signal) => sleep(100, { signal }));
        const other = tg.spawn(() => sleep(50));
        cancelled.cancel();
        const r = await wait([cancelled, other], { returnWhen: "FIRST_EXCEPTION" });
        assert.equal(r.pending.size, 0); // the cancellation did not end the wait early
      });
    }, auto);
  });

  it("a timeout returns what is done so far, without cancelling anything", async () => {
    await withVirtualClock(async (clock) => {
      const slow = sleep(1_000);
      const { done, pending } = await wait([slow], { timeout: 100 });
      assert.equal(done.size, 0);
      assert.deepEqual([...pending], [slow]);
      assert.equal(clock.pendingTimers, 1); // the sleep's own timer, not wait's
    }, auto);
  });

  it("an empty input resolves at once; bad options are TypeErrors", async () => {
    const r = await wait([]);
    assert.equal(r.done.size + r.pending.size, 0);
    await assert.rejects(wait([], { returnWhen: "SOMETIMES" as never }), {
      name: "TypeError",
      message: /returnWhen/,
    });
  });

  it("rejects (never throws) what is not an iterable, null and undefined included", async () => {
    for (const bad of [42, null, undefined]) {
      let result: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        result = wait(bad as never);
      });
      await assert.rejects(result as Promise<unknown>, {
        name: "TypeError",
        message: /Expected the items of wait\(\) to be an array or an iterable/,
      });
    }
  });

  it("an aborted signal rejects the wait with its reason", async () => {
    await assert.rejects(
      wait([new Promise(() => {})], { signal: AbortSignal.abort("r") }),
      (e) => e === "r",
    );
  });
});
