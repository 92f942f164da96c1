/**
 * The one internal scope race, asCompleted and gather are written on: it links
 * the parent signal for its lifetime, the first cancel wins, and it settles
 * once, only after close() and after every entered item exited.
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
});
