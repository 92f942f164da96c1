/**
 * The one internal scope race, asCompleted, gather and map are written on: it
 * links the parent signal for its lifetime, the first cancel wins, and it
 * settles once, only after close() and after every entered item exited (a
 * parked one only until the scope is cancelled). Between idles it takes new
 * items, which TaskGroup needs.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Scope } from "../../src/_internal/scope.js";

const realListeners = (signal: AbortSignal): number => getEventListeners(signal, "abort").length;

describe("Scope", () => {
  it("settles at close() when nothing is running", () => {
    const scope = new Scope(undefined);
    let settled = 0;
    scope.close(() => settled++);
    assert.equal(settled, 1);
  });

  it("waits for every entered item, even after close()", () => {
    const scope = new Scope(undefined);
    let settled = 0;
    scope.enter();
    scope.enter();
    scope.close(() => settled++);
    scope.exit();
    assert.equal(settled, 0);
    scope.exit();
    assert.equal(settled, 1);
  });

  it("does not settle while open, even when the count reaches zero", () => {
    const scope = new Scope(undefined);
    let settled = 0;
    scope.enter();
    scope.exit();
    scope.enter();
    scope.close(() => settled++);
    assert.equal(settled, 0);
    scope.exit();
    assert.equal(settled, 1);
  });

  it("refuses a second close()", () => {
    const scope = new Scope(undefined);
    scope.close(() => {});
    assert.throws(() => scope.close(() => {}), /called twice/);
  });

  it("lets the first cancel win and keeps its reason", () => {
    const scope = new Scope(undefined);
    assert.equal(scope.cancelled, false);
    assert.equal(scope.cancel("first"), true);
    assert.equal(scope.cancel("second"), false);
    assert.equal(scope.signal.reason, "first");
    assert.equal(scope.cancelled, true);
    assert.equal(scope.parentAborted, false);
  });

  it("is cancelled with the parent's reason, and the parent's abort wins over a later cancel", () => {
    const parent = new AbortController();
    const scope = new Scope(parent.signal);
    parent.abort("outer");
    assert.equal(scope.cancelled, true);
    assert.equal(scope.parentAborted, true);
    assert.equal(scope.cancel("inner"), false);
    assert.equal(scope.signal.reason, "outer");
  });

  it("starts cancelled under an already-aborted parent", () => {
    const scope = new Scope(AbortSignal.abort("gone"));
    assert.equal(scope.signal.reason, "gone");
  });

  it("holds the parent's listener until it settles, then lets it go", () => {
    const parent = new AbortController();
    const scope = new Scope(parent.signal);
    assert.equal(realListeners(parent.signal), 1);
    scope.enter();
    scope.close(() => {});
    assert.equal(realListeners(parent.signal), 1, "still linked while an item runs");
    scope.exit();
    assert.equal(realListeners(parent.signal), 0);
    parent.abort("late");
    assert.equal(scope.cancelled, false, "a parent aborting after the scope settled is not seen");
  });

  it("runs onCancel once, after the signal's listeners, for a cancel or the parent's abort", () => {
    for (const by of ["cancel", "parent"] as const) {
      const parent = new AbortController();
      const seen: string[] = [];
      const scope = new Scope(parent.signal, (reason) => seen.push(`hook:${String(reason)}`));
      scope.signal.addEventListener("abort", () => seen.push("listener"));
      if (by === "cancel") scope.cancel("r");
      else parent.abort("r");
      scope.cancel("again");
      assert.deepEqual(seen, ["listener", "hook:r"], by);
    }
  });

  it("runs onCancel at once under an already-aborted parent", () => {
    const seen: unknown[] = [];
    const scope = new Scope(AbortSignal.abort("gone"), (reason) => seen.push(reason));
    assert.deepEqual(seen, ["gone"]);
    assert.equal(scope.parentAborted, true);
  });

  it("settles exactly once, after the last exit, for any interleaving", () => {
    fc.assert(
      fc.property(fc.nat(8), fc.nat(8), (before, after) => {
        const scope = new Scope(undefined);
        let settled = 0;
        for (let i = 0; i < before + after; i++) scope.enter();
        for (let i = 0; i < before; i++) scope.exit();
        scope.close(() => settled++);
        for (let i = 0; i < after; i++) {
          assert.equal(settled, 0);
          scope.exit();
        }
        assert.equal(settled, 1);
      }),
    );
  });

  describe("idle and re-entry", () => {
    it("whenIdle() resolves at once when nothing runs, and again after new items exit", async () => {
      const scope = new Scope(undefined);
      await scope.whenIdle();
      for (let round = 0; round < 3; round++) {
        scope.enter();
        let idle = false;
        const waiting = scope.whenIdle().then(() => {
          idle = true;
        });
        await Promise.resolve();
        assert.equal(idle, false, `round ${round}: not idle while an item runs`);
        scope.exit();
        await waiting;
        assert.equal(idle, true);
      }
      assert.equal(scope.settled, false, "going idle does not settle an open scope");
    });

    it("wakes every waiter of one idle", async () => {
      const scope = new Scope(undefined);
      scope.enter();
      const woken: number[] = [];
      const all = [1, 2].map((n) => scope.whenIdle().then(() => woken.push(n)));
      scope.exit();
      await Promise.all(all);
      assert.deepEqual(woken, [1, 2]);
    });

    it("closeWhenIdle() waits for an item that enters after the count hit zero, then settles once", async () => {
      const parent = new AbortController();
      const scope = new Scope(parent.signal);
      const events: string[] = [];
      scope.enter();
      const closed = scope
        .closeWhenIdle(() => events.push("settled"))
        .then(() => events.push("resolved"));
      // The last item's callback starts another one right after its exit.
      scope.exit();
      scope.enter();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(events, [], "still waiting for the item that entered late");
      assert.equal(realListeners(parent.signal), 1, "the parent stays linked meanwhile");
      scope.exit();
      await closed;
      assert.deepEqual(
        events,
        ["settled", "resolved"],
        "onSettled runs before the promise resolves",
      );
      assert.equal(scope.settled, true);
      assert.equal(realListeners(parent.signal), 0);
      assert.throws(() => scope.enter(), /after the scope settled/);
    });

    it("closeWhenIdle() settles at once (after a turn) when nothing runs", async () => {
      const scope = new Scope(undefined);
      let settled = 0;
      await scope.closeWhenIdle(() => settled++);
      assert.equal(settled, 1);
    });

    it("a cancel while idle aborts the signal and leaves the scope open for cancelled items", async () => {
      const scope = new Scope(undefined);
      scope.enter();
      scope.exit();
      assert.equal(scope.cancel("stop"), true);
      assert.equal(scope.settled, false, "an open scope does not settle on a cancel");
      await scope.whenIdle();
      // An owner may still count an item that starts cancelled (a task spawned into a cancelled group).
      scope.enter();
      let settled = 0;
      const closed = scope.closeWhenIdle(() => settled++);
      await Promise.resolve();
      assert.equal(settled, 0);
      scope.exit();
      await closed;
      assert.equal(settled, 1);
      assert.equal(scope.signal.reason, "stop");
    });

    it("refuses a second close, whichever way each was asked", async () => {
      const a = new Scope(undefined);
      const first = a.closeWhenIdle(() => {});
      assert.throws(() => a.close(() => {}), /called twice/);
      await assert.rejects(
        a.closeWhenIdle(() => {}),
        /called twice/,
      );
      await first;
      const b = new Scope(undefined);
      b.close(() => {});
      await assert.rejects(
        b.closeWhenIdle(() => {}),
        /called twice/,
      );
    });
  });

  describe("parked items", () => {
    it("waits for a parked item while the scope runs", () => {
      const scope = new Scope(undefined);
      let settled = 0;
      scope.enter();
      scope.park();
      scope.close(() => settled++);
      assert.equal(settled, 0, "a parked item of a scope that runs is waited for");
      scope.unpark();
      scope.exit();
      assert.equal(settled, 1);
    });

    it("stops waiting for parked items once cancelled: the cancel settles a closed scope", () => {
      const scope = new Scope(undefined);
      const events: string[] = [];
      scope.enter(); // parked on an input that never settles
      scope.park();
      scope.enter(); // a running call
      scope.close(() => events.push("settled"));
      scope.cancel("failed");
      assert.deepEqual(events, [], "the running call is still waited for");
      scope.exit();
      assert.deepEqual(events, ["settled"]);
      // The abandoned item wakes up later: its unpark and exit change nothing.
      scope.unpark();
      scope.exit();
      assert.deepEqual(events, ["settled"]);
    });

    it("settles at the cancel itself, after onCancel, when only parked items are left", () => {
      const events: string[] = [];
      const scope = new Scope(undefined, (reason) => events.push(`onCancel:${String(reason)}`));
      scope.enter();
      scope.park();
      scope.close(() => events.push("settled"));
      scope.cancel("r");
      assert.deepEqual(events, ["onCancel:r", "settled"]);
    });

    it("settles at the parent's abort when only parked items are left, or when the last one parks after it", () => {
      for (const parkFirst of [true, false]) {
        const parent = new AbortController();
        const scope = new Scope(parent.signal, () => {});
        let settled = 0;
        scope.enter();
        if (parkFirst) scope.park();
        scope.close(() => settled++);
        parent.abort("outer");
        assert.equal(settled, parkFirst ? 1 : 0);
        if (!parkFirst) scope.park();
        assert.equal(settled, 1);
        assert.equal(scope.parentAborted, true);
      }
    });

    it("refuses to park on a scope whose parent's abort would not come through cancel()", () => {
      const scope = new Scope(new AbortController().signal);
      scope.enter();
      assert.throws(() => scope.park(), /needs a scope made with onCancel/);
    });

    it("counts a scope with only parked items as idle once cancelled, not before", async () => {
      const scope = new Scope(undefined);
      scope.enter();
      scope.park();
      let idle = false;
      const waiting = scope.whenIdle().then(() => {
        idle = true;
      });
      await Promise.resolve();
      assert.equal(idle, false);
      scope.cancel("stop");
      await waiting;
      assert.equal(idle, true);
    });
  });

  it("property: whatever the order of enter, exit, park, unpark and cancel, it settles once, exactly when nothing is left to wait for", () => {
    type Op = "enter" | "exit" | "park" | "unpark" | "cancel" | "close";
    const op = fc.constantFrom<Op>("enter", "exit", "park", "unpark", "cancel", "close");
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const scope = new Scope(undefined);
        let settled = 0;
        let running = 0;
        let parked = 0; // parked items among the running ones (each item parks at most once at a time)
        let cancelled = false;
        let closed = false;
        const waitsForNothing = (): boolean => running === parked && (parked === 0 || cancelled);
        for (const o of ops) {
          if (scope.settled) break;
          if (o === "enter") {
            scope.enter();
            running++;
          } else if (o === "exit" && running > parked) {
            scope.exit();
            running--;
          } else if (o === "park" && running > parked) {
            scope.park();
            parked++;
          } else if (o === "unpark" && parked > 0) {
            scope.unpark();
            parked--;
          } else if (o === "cancel") {
            scope.cancel("x");
            cancelled = true;
          } else if (o === "close" && !closed) {
            scope.close(() => settled++);
            closed = true;
          }
          assert.equal(scope.running, running);
          assert.equal(settled, closed && waitsForNothing() ? 1 : 0, `after ${o}`);
        }
        assert.ok(settled <= 1);
      }),
    );
  });
});
