import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Event } from "../../src/index.js";
import { flush, listeners, track } from "./helpers.js";

describe("Event", () => {
  it("set() wakes every waiter; wait() on a set event resolves at once", async () => {
    const event = new Event();
    assert.equal(event.isSet, false);
    const waiters = [track(event.wait()), track(event.wait()), track(event.wait())];
    await flush();
    assert.ok(waiters.every((w) => w.status === "pending"));
    event.set();
    assert.equal(event.isSet, true);
    assert.equal(event.statistics().waiting, 0);
    await flush();
    assert.ok(waiters.every((w) => w.status === "fulfilled"));
    await event.wait();
  });

  it("clear() makes later waits wait for the next set()", async () => {
    const event = new Event();
    event.set();
    event.clear();
    assert.equal(event.isSet, false);
    const waiter = track(event.wait());
    await flush();
    assert.equal(waiter.status, "pending");
    event.set();
    await flush();
    assert.equal(waiter.status, "fulfilled");
  });

  it("set() then clear() in the same tick still wakes the waiters of that set()", async () => {
    const event = new Event();
    const waiter = track(event.wait());
    event.set();
    event.clear();
    await flush();
    assert.equal(waiter.status, "fulfilled");
  });

  it("set() is idempotent", async () => {
    const event = new Event();
    event.set();
    event.set();
    assert.equal(event.isSet, true);
  });

  it("an aborted waiter rejects with the reason at once, leaves the queue and its listener", async () => {
    const event = new Event();
    const controller = new AbortController();
    const aborted = track(event.wait({ signal: controller.signal }));
    const live = track(event.wait());
    assert.equal(listeners(controller.signal), 1);
    controller.abort("bye");
    assert.equal(event.statistics().waiting, 1);
    assert.equal(listeners(controller.signal), 0);
    await flush();
    assert.equal(aborted.status, "rejected");
    assert.equal(aborted.reason, "bye");
    event.set();
    await flush();
    assert.equal(live.status, "fulfilled");
  });

  it("a waiter woken in the same tick its signal aborts resolves", async () => {
    const event = new Event();
    const controller = new AbortController();
    const waiter = track(event.wait({ signal: controller.signal }));
    event.set();
    controller.abort();
    await flush();
    assert.equal(waiter.status, "fulfilled");
    assert.equal(listeners(controller.signal), 0);
  });

  it("an already-aborted signal rejects, even when the event is set", async () => {
    const event = new Event();
    event.set();
    await assert.rejects(event.wait({ signal: AbortSignal.abort("no") }), (e) => e === "no");
  });

  it("rejects a bad signal with a TypeError", async () => {
    await assert.rejects(new Event().wait({ signal: {} as AbortSignal }), TypeError);
  });

  it("removes the listener of a waiter woken by set()", async () => {
    const event = new Event();
    const controller = new AbortController();
    const waiting = event.wait({ signal: controller.signal });
    event.set();
    await waiting;
    assert.equal(listeners(controller.signal), 0);
  });

  it("isSet is a read-only property", () => {
    assert.throws(() => {
      (new Event() as { isSet: boolean }).isSet = true;
    }, TypeError);
  });
});
