import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DONE, DONE_PROMISE } from "../../src/_internal/iterators.js";
import { PendingNext } from "../../src/_internal/pending-next.js";

describe("PendingNext", () => {
  it("deliver() hands a value to the parked next() only, and says whether there was one", async () => {
    const pending = new PendingNext<number>();
    assert.equal(pending.parked, false);
    assert.equal(pending.deliver(1), false, "nobody parked: the caller buffers it");
    const next = pending.park();
    assert.equal(pending.parked, true);
    assert.equal(pending.deliver(2), true);
    assert.equal(pending.parked, false);
    assert.equal(pending.deliver(3), false);
    assert.deepEqual(await next, { value: 2, done: false });
  });

  it("done() and settle() end the parked next(); settle() passes a rejection on", async () => {
    const pending = new PendingNext<number>();
    const first = pending.park();
    pending.done();
    assert.equal(await first, DONE);
    pending.done(); // nobody parked: nothing happens
    const second = pending.park();
    pending.settle(Promise.reject(new Error("boom")));
    assert.equal(pending.parked, false);
    await assert.rejects(second, /boom/);
    const third = pending.park();
    pending.settle(DONE_PROMISE);
    assert.equal(await third, DONE);
  });

  it("cancel() resolves the parked next() as done, or rejects it with an aborted signal's reason", async () => {
    const pending = new PendingNext<number>();
    pending.cancel(undefined); // nobody parked: nothing happens
    const first = pending.park();
    pending.cancel(new AbortController().signal);
    assert.equal(await first, DONE);
    const second = pending.park();
    pending.cancel(AbortSignal.abort(new Error("stopped")));
    assert.equal(pending.parked, false);
    await assert.rejects(second, /stopped/);
  });
});
