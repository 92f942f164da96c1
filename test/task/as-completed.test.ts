import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asCompleted, isCancellation, sleep } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

const auto = { autoAdvance: true } as const;
const after = (ms: number, value: string) => (signal: AbortSignal) =>
  sleep(ms, { signal }).then(() => value);

describe("asCompleted", () => {
  it("yields results in completion order", async () => {
    await withVirtualClock(async () => {
      const seen: string[] = [];
      for await (const value of asCompleted([
        after(30, "c"),
        after(10, "a"),
        after(20, "b"),
        Promise.resolve("now"),
      ])) {
        seen.push(value);
      }
      assert.deepEqual(seen, ["now", "a", "b", "c"]);
    }, auto);
  });

  it("yields nothing for no items", async () => {
    const seen: unknown[] = [];
    for await (const value of asCompleted([])) seen.push(value);
    assert.deepEqual(seen, []);
  });

  it("breaking out of the loop cancels the rest and waits for them", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const slow = async (signal: AbortSignal): Promise<string> => {
        try {
          await sleep(1_000, { signal });
          return "slow";
        } catch (e) {
          await sleep(5);
          log.push(isCancellation(e) ? "slow cancelled" : "slow failed");
          throw e;
        }
      };
      for await (const value of asCompleted([slow, after(10, "fast"), slow])) {
        assert.equal(value, "fast");
        break;
      }
      assert.deepEqual(log, ["slow cancelled", "slow cancelled"]);
    }, auto);
  });

  it("a failure is thrown from the loop at its turn, after cancelling the rest", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("boom");
      let cancelled = false;
      const seen: string[] = [];
      await assert.rejects(
        async () => {
          for await (const value of asCompleted([
            after(5, "first"),
            async () => {
              await sleep(10);
              throw boom;
            },
            (signal: AbortSignal) =>
              sleep(100, { signal }).catch((e: unknown) => {
                cancelled = true;
                throw e;
              }),
          ])) {
            seen.push(String(value));
          }
        },
        (e) => e === boom,
      );
      assert.deepEqual(seen, ["first"]);
      assert.equal(cancelled, true);
    }, auto);
  });

  it("a thenable whose then getter throws is thrown at its turn; the rest are cancelled and awaited", async () => {
    await withVirtualClock(async () => {
      const boom = new Error("then getter threw");
      const log: string[] = [];
      await assert.rejects(
        async () => {
          for await (const _ of asCompleted([
            (signal: AbortSignal) =>
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
          ])) {
            log.push("yielded");
          }
        },
        (e) => e === boom,
      );
      assert.deepEqual(log, ["cancelled"]);
    }, auto);
  });

  it("yields what the array held when the loop started, even if it grows meanwhile", async () => {
    await withVirtualClock(async () => {
      const items: ((signal: AbortSignal) => Promise<string>)[] = [after(10, "a"), after(20, "b")];
      const seen: string[] = [];
      for await (const value of asCompleted(items)) {
        seen.push(value);
        items.push(after(5, "never started"));
      }
      assert.deepEqual(seen, ["a", "b"]);
    }, auto);
  });

  it("an outer abort ends the loop with the reason and cancels everything", async () => {
    await withVirtualClock(async () => {
      const controller = new AbortController();
      const loop = (async () => {
        for await (const _ of asCompleted([after(100, "x")], { signal: controller.signal })) {
          // not reached
        }
      })();
      await waitIdle();
      controller.abort("stop");
      await assert.rejects(loop, (e) => e === "stop");
    }, auto);
  });

  it("starts nothing until the loop starts", async () => {
    let started = false;
    const iterable = asCompleted([
      () => {
        started = true;
        return 1;
      },
    ]);
    await waitIdle();
    assert.equal(started, false);
    for await (const _ of iterable) {
      // drain
    }
    assert.equal(started, true);
  });
});
