import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refuseWait, WaitQueue } from "../../src/_internal/wait-queue.js";
import { flush, listeners, track } from "../sync/helpers.js";

describe("WaitQueue", () => {
  it("wakes waiters one at a time in FIFO order with the given value", async () => {
    const queue = new WaitQueue<string>();
    const waiters = [track(queue.wait()), track(queue.wait()), track(queue.wait())];
    assert.equal(queue.size, 3);
    assert.equal(queue.wakeOne("a"), true);
    assert.equal(queue.wakeOne("b"), true);
    await flush();
    assert.deepEqual(
      waiters.map((w) => w.value),
      ["a", "b", undefined],
    );
    assert.equal(queue.wakeAll("c"), 1);
    assert.equal(queue.wakeOne("d"), false);
    assert.equal(queue.size, 0);
  });

  it("carries data with each waiter; peekData() shows the first waiter's", () => {
    const queue = new WaitQueue<void, number>();
    assert.equal(queue.peekData(), undefined);
    void queue.wait(undefined, 1);
    void queue.wait(undefined, 2);
    assert.equal(queue.peekData(), 1);
    queue.wakeOne(undefined);
    assert.equal(queue.peekData(), 2);
  });

  it("rejectOne() and rejectAll() reject in FIFO order", async () => {
    const queue = new WaitQueue<void>();
    const waiters = [track(queue.wait()), track(queue.wait()), track(queue.wait())];
    assert.equal(queue.rejectOne("first"), true);
    assert.equal(queue.rejectAll("rest"), 2);
    assert.equal(queue.rejectOne("none"), false);
    await flush();
    assert.deepEqual(
      waiters.map((w) => w.reason),
      ["first", "rest", "rest"],
    );
  });

  it("removes an aborted waiter at once, from the head, the middle or the tail", async () => {
    for (const victim of [0, 1, 2]) {
      const queue = new WaitQueue<number, number>();
      const controllers = [0, 1, 2].map(() => new AbortController());
      const waiters = controllers.map((c, i) => track(queue.wait(c.signal, i)));
      controllers[victim]?.abort(`abort ${victim}`);
      assert.equal(queue.size, 2);
      assert.equal(listeners(controllers[victim]?.signal as AbortSignal), 0);
      const live = [0, 1, 2].filter((i) => i !== victim);
      assert.equal(queue.peekData(), live[0]);
      queue.wakeAll(7);
      await flush();
      assert.equal(waiters[victim]?.reason, `abort ${victim}`);
      for (const i of live) assert.equal(waiters[i]?.value, 7);
      for (const c of controllers) assert.equal(listeners(c.signal), 0);
    }
  });

  it("a waiter woken before its signal aborts keeps its value and drops its listener", async () => {
    const queue = new WaitQueue<string>();
    const controller = new AbortController();
    const waiter = track(queue.wait(controller.signal));
    queue.wakeOne("mine");
    assert.equal(listeners(controller.signal), 0);
    controller.abort();
    await flush();
    assert.equal(waiter.value, "mine");
  });

  it("rejects without queueing when the signal is already aborted", async () => {
    const queue = new WaitQueue<void>();
    await assert.rejects(queue.wait(AbortSignal.abort("no")), (e) => e === "no");
    assert.equal(queue.size, 0);
  });

  it("refuseWait() rejects a non-signal with a TypeError, an aborted one with its reason", async () => {
    assert.equal(refuseWait(undefined), undefined);
    assert.equal(refuseWait(new AbortController().signal), undefined);
    await assert.rejects(refuseWait(AbortSignal.abort("r")) as Promise<never>, (e) => e === "r");
    await assert.rejects(refuseWait(null) as Promise<never>, {
      name: "TypeError",
      message: "Expected `signal` to be an AbortSignal, got null",
    });
  });

  it("tells its owner of a waiter that left on abort, after rejecting it, and of nothing else", async () => {
    const seen: string[] = [];
    const queue = new WaitQueue<number>(() => seen.push(`left, size ${queue.size}`));
    const controller = new AbortController();
    const leaving = queue.wait(controller.signal);
    leaving.catch((e) => seen.push(`rejected ${String(e)}`));
    const staying = queue.wait();
    controller.abort("gone");
    assert.deepEqual(seen, ["left, size 1"]);
    await flush();
    assert.deepEqual(seen, ["left, size 1", "rejected gone"]);
    queue.wakeOne(1);
    assert.equal(await staying, 1);
    queue.wait().catch(() => undefined);
    queue.rejectAll(new Error("closed"));
    assert.deepEqual(seen, ["left, size 1", "rejected gone"]);
  });
});
