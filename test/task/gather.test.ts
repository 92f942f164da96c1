import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { CancelledError, gather, isCancellation, race, sleep, taskGroup } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

const auto = { autoAdvance: true } as const;

describe("gather", () => {
  it("resolves to results in input order, whatever the completion order", async () => {
    await withVirtualClock(async () => {
      const results = await gather([
        (signal) => sleep(30, { signal }).then(() => "slow"),
        (signal) => sleep(10, { signal }).then(() => "fast"),
        Promise.resolve(3),
        () => "sync",
      ]);
      assert.deepEqual(results, ["slow", "fast", 3, "sync"]);
    }, auto);
  });

  it("resolves [] for no items, and accepts any iterable", async () => {
    assert.deepEqual(await gather([]), []);
    const set = new Set([() => 1, () => 2]);
    assert.deepEqual(await gather(set), [1, 2]);
  });

  it("on the first failure cancels the rest, waits for them, and rejects with that error", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("boom");
      const log: string[] = [];
      const error = await gather([
        async (signal) => {
          try {
            await sleep(1_000, { signal });
          } catch (e) {
            await sleep(5);
            log.push(`cancelled: ${isCancellation(e)}`);
            throw e;
          }
        },
        async () => {
          await sleep(1);
          throw boom;
        },
        async () => {
          await sleep(2);
          throw new Error("second failure is not the one reported");
        },
      ]).catch((e: unknown) => e);
      assert.equal(error, boom);
      assert.deepEqual(log, ["cancelled: true"]);
    }, auto);
  });

  it("cancels a function that takes its signal through rest parameters (a wrapper) too", async () => {
    await withVirtualClock(async () => {
      const wrap =
        <A extends unknown[], R>(fn: (...args: A) => R) =>
        (...args: A): R =>
          fn(...args); // fn.length is 0
      const log: string[] = [];
      const boom = new Error("boom");
      const error = await gather([
        wrap((signal: AbortSignal) =>
          sleep(1_000, { signal }).then(
            () => log.push("ran to the end"),
            (e: unknown) => {
              log.push("cancelled");
              throw e;
            },
          ),
        ),
        () => Promise.reject(boom),
      ]).catch((e: unknown) => e);
      assert.equal(error, boom);
      assert.deepEqual(log, ["cancelled"]);
    }, auto);
  });

  it("with settle: true collects a PromiseSettledResult for every item", async () => {
    const boom = new Error("boom");
    const results = await gather([() => 1, () => Promise.reject(boom), Promise.resolve("x")], {
      settle: true,
    });
    assert.deepEqual(results, [
      { status: "fulfilled", value: 1 },
      { status: "rejected", reason: boom },
      { status: "fulfilled", value: "x" },
    ]);
  });

  it("treats a synchronous throw as that item's failure", async () => {
    const boom = new Error("sync");
    await assert.rejects(
      gather([
        () => {
          throw boom;
        },
      ]),
      (e) => e === boom,
    );
  });

  it("an outer abort cancels every task function, waits, and rejects with the reason", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const log: string[] = [];
      const p = gather(
        [
          async (signal) => {
            await sleep(1_000, { signal }).catch((e: unknown) => {
              log.push("a");
              throw e;
            });
          },
          Promise.resolve(1),
        ],
        { signal: controller.signal },
      );
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(p, (e) => e === "stop");
      assert.deepEqual(log, ["a"]);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    }, auto);
  });

  it("an outer abort is reported even when no item looks at its signal", async () => {
    await withVirtualClock(async (clock) => {
      const controller = new AbortController();
      const p = assert.rejects(
        gather([() => sleep(10)], { signal: controller.signal }),
        (e) => e === "stop",
      );
      controller.abort("stop");
      await clock.advance(10);
      await p;
    });
  });

  it("rejects at once for an already aborted signal, without calling anything", async () => {
    let called = false;
    await assert.rejects(
      gather(
        [
          () => {
            called = true;
          },
        ],
        { signal: AbortSignal.abort("x") },
      ),
      (e) => e === "x",
    );
    assert.equal(called, false);
  });

  it("leaves no unhandled rejection from plain promises that fail after the first failure", async () => {
    const unhandled: unknown[] = [];
    const on = (r: unknown): void => {
      unhandled.push(r);
    };
    process.on("unhandledRejection", on);
    try {
      await assert.rejects(
        gather([Promise.reject(new Error("a")), Promise.reject(new Error("b"))]),
      );
      await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", on);
    }
  });

  it("a thenable that calls back twice counts once: gather still waits for the others", async () => {
    await withVirtualClock(async () => {
      const twice = {
        then(resolve: (value: number) => void, reject: (error: unknown) => void) {
          resolve(1);
          resolve(2);
          reject(new Error("late"));
        },
      } as unknown as PromiseLike<number>;
      const slow = (signal: AbortSignal) => sleep(10, { signal }).then(() => "slow");
      assert.deepEqual(await gather([twice, slow]), [1, "slow"]);
      assert.deepEqual(await gather([twice, slow], { settle: true }), [
        { status: "fulfilled", value: 1 },
        { status: "fulfilled", value: "slow" },
      ]);
    }, auto);
  });

  it("a thenable whose then throws fails its item: the rest are cancelled and awaited", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const boom = new Error("then threw");
      const log: string[] = [];
      const error = await gather(
        [
          (signal) =>
            sleep(1_000, { signal }).catch((e: unknown) => {
              log.push("cancelled");
              throw e;
            }),
          () => ({
            then(): never {
              throw boom;
            },
          }),
        ],
        { signal: controller.signal },
      ).catch((e: unknown) => e);
      assert.equal(error, boom);
      assert.deepEqual(log, ["cancelled"]);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    }, auto);
  });

  it("runs the items the array held when called, even if an item adds more", async () => {
    await withVirtualClock(async () => {
      let lateCalled = false;
      const items: ((signal: AbortSignal) => unknown)[] = [
        () => {
          items.push(() => {
            lateCalled = true;
          });
          return 1;
        },
      ];
      assert.deepEqual(await gather(items), [1]);
      assert.equal(lateCalled, false); // not started, so not left running either
    }, auto);
  });

  it("rejects what is not an iterable with a TypeError", async () => {
    await assert.rejects(gather(42 as never), {
      name: "TypeError",
      message: /iterable, got 42 \(number\)/,
    });
  });
});

describe("race", () => {
  it("the first to settle wins; the losers are cancelled and awaited before it returns", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const winner = await race([
        async (signal) => {
          await sleep(10, { signal });
          return "fast";
        },
        async (signal) => {
          try {
            await sleep(1_000, { signal });
          } catch (e) {
            await sleep(50);
            log.push("loser cleaned up");
            throw e;
          }
          return "slow";
        },
      ]);
      assert.equal(winner, "fast");
      assert.deepEqual(log, ["loser cleaned up"]);
    }, auto);
  });

  it("a rejection that settles first wins too", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("first");
      await assert.rejects(
        race([(signal) => sleep(100, { signal }).then(() => 1), () => Promise.reject(boom)]),
        (e) => e === boom,
      );
    }, auto);
  });

  it("an outer abort cancels every contender and rejects with the reason", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const p = race([(signal) => sleep(100, { signal })], { signal: controller.signal });
      await waitIdle();
      controller.abort(new CancelledError("bye"));
      await assert.rejects(p, (e) => isCancellation(e));
    }, auto);
  });

  it("a thenable whose then getter throws loses as a rejection: the others are cancelled and awaited", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const boom = new Error("then getter threw");
      const log: string[] = [];
      const error = await race(
        [
          (signal) =>
            sleep(1_000, { signal }).catch(async (e: unknown) => {
              await sleep(5);
              log.push("cancelled");
              throw e;
            }),
          () => ({
            get then(): never {
              throw boom;
            },
          }),
        ],
        { signal: controller.signal },
      ).catch((e: unknown) => e);
      assert.equal(error, boom);
      assert.deepEqual(log, ["cancelled"]);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    }, auto);
  });

  it("rejects an empty race with a TypeError instead of hanging forever", async () => {
    await assert.rejects(race([]), { name: "TypeError", message: /at least one/ });
  });
});

describe("shared signals", () => {
  it("take many listeners without Node's 'possible memory leak' warning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on("warning", onWarning);
    try {
      const listen = (signal: AbortSignal): Promise<void> =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => resolve(), { once: true });
          setTimeout(resolve, 1);
        });
      await gather(Array.from({ length: 30 }, () => listen));
      await taskGroup((tg) => {
        for (let i = 0; i < 30; i++) tg.spawn(() => listen(tg.signal));
      });
      await new Promise((resolve) => setTimeout(resolve, 5)); // warnings are emitted on a later tick
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
