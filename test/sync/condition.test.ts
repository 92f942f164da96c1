import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Condition, Lock } from "../../src/index.js";
import { flush, listeners, track } from "./helpers.js";

describe("Condition", () => {
  it("wait() releases the lock, and returns holding it again after notify()", async () => {
    const cond = new Condition();
    const permit = await cond.acquire();
    const waiting = track(cond.wait());
    assert.equal(cond.locked, false, "released while waiting");
    await flush();
    assert.equal(waiting.status, "pending");
    {
      using _ = await cond.acquire();
      cond.notify();
    }
    await flush();
    assert.equal(waiting.status, "fulfilled");
    assert.equal(cond.locked, true, "held again");
    permit.release();
    assert.equal(cond.locked, false);
  });

  it("notify(n) wakes n waiters in FIFO order; notifyAll() wakes the rest", async () => {
    const cond = new Condition();
    const order: number[] = [];
    const waiters = [0, 1, 2, 3, 4].map(async (i) => {
      using _ = await cond.acquire();
      await cond.wait();
      order.push(i);
    });
    await flush();
    assert.equal(cond.statistics().waiting, 5);
    {
      using _ = await cond.acquire();
      cond.notify(2);
    }
    await flush();
    assert.deepEqual(order, [0, 1]);
    {
      using _ = await cond.acquire();
      cond.notifyAll();
    }
    await Promise.all(waiters);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it("notify() with nobody waiting does nothing, and a later wait is not woken by it", async () => {
    const cond = new Condition();
    await cond.acquire();
    cond.notify();
    const waiting = track(cond.wait());
    await flush();
    assert.equal(waiting.status, "pending");
  });

  it("waitFor() returns the predicate's truthy value, re-checking after each notification", async () => {
    const cond = new Condition();
    let count = 0;
    let calls = 0;
    const consumer = (async () => {
      using _ = await cond.acquire();
      return await cond.waitFor(() => {
        calls++;
        return count >= 3 ? `count ${count}` : 0;
      });
    })();
    for (let i = 0; i < 3; i++) {
      await flush();
      using _ = await cond.acquire();
      count++;
      cond.notify();
    }
    assert.equal(await consumer, "count 3");
    assert.equal(calls, 4);
  });

  it("waitFor() with a true predicate returns at once without waiting", async () => {
    const cond = new Condition();
    await cond.acquire();
    assert.equal(await cond.waitFor(() => 7), 7);
    assert.equal(cond.locked, true);
  });

  it("waitFor() rejects with the predicate's error, the lock still held", async () => {
    const cond = new Condition();
    await cond.acquire();
    await assert.rejects(
      cond.waitFor(() => {
        throw new Error("bad predicate");
      }),
      /bad predicate/,
    );
    assert.equal(cond.locked, true);
    await assert.rejects(cond.waitFor(42 as unknown as () => boolean), TypeError);
  });

  it("wait() aborted re-acquires the lock before rejecting with the reason", async () => {
    const cond = new Condition();
    const controller = new AbortController();
    const steps: string[] = [];
    const waiter = (async () => {
      const permit = await cond.acquire();
      try {
        await cond.wait({ signal: controller.signal });
      } catch (error) {
        steps.push(`rejected (${String(error)}) locked=${cond.locked}`);
      } finally {
        permit.release();
      }
    })();
    await flush();
    const other = await cond.acquire(); // someone else holds the lock at the abort
    controller.abort("stop");
    await flush();
    assert.equal(steps.length, 0, "cannot reject before it holds the lock again");
    assert.equal(cond.statistics().waiting, 0, "left the notification queue at once");
    assert.equal(listeners(controller.signal), 0);
    steps.push("other releases");
    other.release();
    await waiter;
    assert.deepEqual(steps, ["other releases", "rejected (stop) locked=true"]);
    assert.equal(cond.locked, false);
  });

  it("a waiter notified in the same tick its signal aborts returns normally: the notification is not lost", async () => {
    const cond = new Condition();
    const controller = new AbortController();
    await cond.acquire();
    const first = track(cond.wait({ signal: controller.signal }));
    await cond.acquire();
    const second = track(cond.wait());
    await cond.acquire();
    cond.notify(1);
    controller.abort();
    cond.release();
    await flush();
    assert.equal(first.status, "fulfilled");
    assert.equal(second.status, "pending", "one notify wakes one waiter");
    assert.equal(cond.locked, true);
  });

  it("an aborted waiter does not take a notification from the live ones", async () => {
    const cond = new Condition();
    const controller = new AbortController();
    await cond.acquire();
    const aborted = track(cond.wait({ signal: controller.signal }));
    await cond.acquire();
    const live = track(cond.wait());
    controller.abort("x");
    await cond.acquire();
    cond.notify(1);
    cond.release();
    await flush();
    // The aborted waiter queued for the lock first: it holds it when it rejects.
    assert.equal(aborted.status, "rejected");
    assert.equal(live.status, "pending");
    cond.release();
    await flush();
    assert.equal(live.status, "fulfilled", "the notification went to the live waiter");
    assert.equal(cond.statistics().waiting, 0);
  });

  it("waitFor() aborted while waiting rejects with the reason, holding the lock again", async () => {
    const cond = new Condition();
    const controller = new AbortController();
    await cond.acquire();
    let checks = 0;
    const waiting = track(
      cond.waitFor(
        () => {
          checks++;
          return false;
        },
        { signal: controller.signal },
      ),
    );
    await flush();
    controller.abort("timeout");
    await flush();
    assert.equal(waiting.status, "rejected");
    assert.equal(waiting.reason, "timeout");
    assert.equal(cond.locked, true);
    assert.equal(checks, 1, "the predicate is not called again after the abort");
    assert.equal(listeners(controller.signal), 0);
  });

  it("removes its abort listener when notified", async () => {
    const cond = new Condition();
    const controller = new AbortController();
    await cond.acquire();
    const waiting = cond.wait({ signal: controller.signal });
    assert.equal(listeners(controller.signal), 1);
    await cond.acquire();
    cond.notify();
    cond.release();
    await waiting;
    assert.equal(listeners(controller.signal), 0);
  });

  it("wait() with an already-aborted signal rejects at once, keeping the lock", async () => {
    const cond = new Condition();
    await cond.acquire();
    await assert.rejects(cond.wait({ signal: AbortSignal.abort("no") }), (e) => e === "no");
    assert.equal(cond.locked, true);
    assert.equal(cond.statistics().waiting, 0);
  });

  it("wait(), waitFor() and notify() without the lock are errors naming the state", async () => {
    const cond = new Condition();
    await assert.rejects(cond.wait(), {
      name: "Error",
      message: "Cannot wait on the condition: its lock is not acquired",
    });
    await assert.rejects(
      cond.waitFor(() => true),
      /lock is not acquired/,
    );
    assert.throws(() => cond.notify(), {
      message: "Cannot notify on the condition: its lock is not acquired",
    });
    assert.throws(() => cond.notifyAll(), /lock is not acquired/);
  });

  it("notify() rejects a bad count with a TypeError", async () => {
    const cond = new Condition();
    await cond.acquire();
    assert.throws(() => cond.notify(-1), { name: "TypeError", message: /`n`.*-1 \(number\)/ });
  });

  it("shares the lock it was given", async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const permit = await lock.acquire();
    assert.equal(cond.locked, true);
    const waiting = track(cond.wait());
    assert.equal(lock.locked, false);
    await lock.acquire();
    cond.notify();
    lock.release();
    await flush();
    assert.equal(waiting.status, "fulfilled");
    assert.equal(lock.locked, true);
    permit.release();
  });

  it("rejects a lock that is not a Lock", () => {
    assert.throws(() => new Condition({} as Lock), {
      name: "TypeError",
      message: "Expected `lock` to be a Lock, got an object",
    });
  });

  it("statistics() reports the waiters and the lock", async () => {
    const cond = new Condition();
    await cond.acquire();
    void cond.wait();
    assert.deepEqual(cond.statistics(), { waiting: 1, lock: { locked: false, waiting: 0 } });
  });
});
