/**
 * The O(1) abort-listener fan-out that every wait in aiokit registers on its
 * signal: it must behave as `addEventListener("abort", fn, { once: true })`
 * does — each listener called once, in order, removed ones never — while
 * holding a single real listener on the signal, and none once empty.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { addAbortListener, limiter, removeAbortListener, sleep } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

const realListeners = (signal: AbortSignal): number => getEventListeners(signal, "abort").length;

describe("addAbortListener / removeAbortListener", () => {
  it("calls every listener once on abort, in the order added, through one real listener", () => {
    const controller = new AbortController();
    const calls: string[] = [];
    addAbortListener(controller.signal, () => calls.push("a"));
    addAbortListener(controller.signal, { handleEvent: () => calls.push("b") });
    addAbortListener(controller.signal, () => calls.push("c"));
    assert.equal(realListeners(controller.signal), 1);
    controller.abort();
    controller.abort();
    assert.deepEqual(calls, ["a", "b", "c"]);
    assert.equal(realListeners(controller.signal), 0);
  });

  it("adds the same listener once, like an EventTarget", () => {
    const controller = new AbortController();
    let calls = 0;
    const listener = (): void => {
      calls++;
    };
    addAbortListener(controller.signal, listener);
    addAbortListener(controller.signal, listener);
    controller.abort();
    assert.equal(calls, 1);
  });

  it("drops the real listener with the last one removed, and adds it back on demand", () => {
    const controller = new AbortController();
    const a = (): void => {};
    const b = (): void => {};
    addAbortListener(controller.signal, a);
    addAbortListener(controller.signal, b);
    removeAbortListener(controller.signal, a);
    assert.equal(realListeners(controller.signal), 1);
    removeAbortListener(controller.signal, b);
    removeAbortListener(controller.signal, b); // removing twice is harmless
    assert.equal(realListeners(controller.signal), 0);
    let called = false;
    addAbortListener(controller.signal, () => {
      called = true;
    });
    assert.equal(realListeners(controller.signal), 1);
    controller.abort();
    assert.equal(called, true);
  });

  it("skips a listener that an earlier one removed during the abort", () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const second = (): void => {
      calls.push("second");
    };
    addAbortListener(controller.signal, () => {
      calls.push("first");
      removeAbortListener(controller.signal, second);
    });
    addAbortListener(controller.signal, second);
    controller.abort();
    assert.deepEqual(calls, ["first"]);
  });

  it("runs the other listeners when one throws, and reports the error afterwards", async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const boom = new Error("listener failed");
    const reported = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = (callback) => {
        globalThis.queueMicrotask = original;
        try {
          callback();
        } catch (error) {
          resolve(error);
        }
      };
    });
    addAbortListener(controller.signal, () => {
      throw boom;
    });
    addAbortListener(controller.signal, () => calls.push("after"));
    controller.abort();
    assert.deepEqual(calls, ["after"]);
    assert.equal(await reported, boom);
  });

  it("never calls a listener added after the abort", () => {
    const controller = new AbortController();
    controller.abort();
    let called = false;
    const listener = (): void => {
      called = true;
    };
    addAbortListener(controller.signal, listener);
    removeAbortListener(controller.signal, listener);
    assert.equal(called, false);
    assert.equal(realListeners(controller.signal), 0);
  });

  it("holds 10,000 waiters on one signal with one real listener and no leak warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on("warning", onWarning);
    try {
      await withVirtualClock(
        async () => {
          const controller = new AbortController(); // no setMaxListeners: one real listener is enough
          const limit = limiter(1);
          const held = limit(() => sleep(1_000));
          const queued = Array.from({ length: 10_000 }, () =>
            limit(() => undefined, { signal: controller.signal }).catch((e: unknown) => e),
          );
          assert.equal(realListeners(controller.signal), 1);
          controller.abort(new Error("stop"));
          const results = await Promise.all(queued);
          assert.ok(results.every((r) => r instanceof Error && r.message === "stop"));
          await held;
          await new Promise((resolve) => setImmediate(resolve));
        },
        { autoAdvance: true },
      );
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it("property: on abort exactly the listeners still registered run, once each, in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 7 })), { maxLength: 60 }),
        (ops) => {
          const controller = new AbortController();
          const calls: number[] = [];
          const fns = Array.from({ length: 8 }, (_, i) => () => {
            calls.push(i);
          });
          const model: number[] = []; // registered listeners, in order of addition
          for (const [add, i] of ops) {
            const fn = fns[i] as () => void;
            if (add) {
              addAbortListener(controller.signal, fn);
              if (!model.includes(i)) model.push(i);
            } else {
              removeAbortListener(controller.signal, fn);
              const at = model.indexOf(i);
              if (at !== -1) model.splice(at, 1);
            }
            assert.equal(realListeners(controller.signal), model.length > 0 ? 1 : 0);
          }
          controller.abort();
          assert.deepEqual(calls, model);
          assert.equal(realListeners(controller.signal), 0);
        },
      ),
    );
  });
});
