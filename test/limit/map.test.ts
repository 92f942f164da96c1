import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CancelledError, isCancellation, map, RateLimiter, sleep } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

/** A sync iterator over 0..n-1 that records how far it was pulled and whether it was closed. */
function counting(n: number): Iterable<number> & { pulled: number; closed: boolean } {
  const state = {
    pulled: 0,
    closed: false,
    [Symbol.iterator]() {
      return {
        next: (): IteratorResult<number> =>
          state.pulled < n
            ? { value: state.pulled++, done: false }
            : { value: undefined, done: true },
        return: (): IteratorResult<number> => {
          state.closed = true;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return state;
}

async function* numbers(
  n: number,
  log?: { pulled: number; closed: boolean },
): AsyncGenerator<number> {
  try {
    for (let i = 0; i < n; i++) {
      if (log) log.pulled++;
      yield i;
    }
  } finally {
    if (log) log.closed = true;
  }
}

describe("map", () => {
  it("maps arrays, sync iterables, async iterables and strings to results in input order", async () => {
    const double = async (x: number): Promise<number> => {
      await sleep(0);
      return x * 2;
    };
    const expected = [0, 2, 4, 6, 8];
    assert.deepEqual(await map([0, 1, 2, 3, 4], double, { concurrency: 2 }), expected);
    assert.deepEqual(await map(new Set([0, 1, 2, 3, 4]), double, { concurrency: 3 }), expected);
    assert.deepEqual(await map(numbers(5), double, { concurrency: 2 }), expected);
    assert.deepEqual(await map("abc", (c) => c.toUpperCase(), { concurrency: 2 }), ["A", "B", "C"]);
    assert.deepEqual(await map([], double, { concurrency: 2 }), []);
    assert.deepEqual(await map(numbers(0), double, { concurrency: 2 }), []);
  });

  it("keeps order when later items finish first", async () => {
    await withVirtualClock(
      async () => {
        const delays = [30, 10, 20, 0, 5];
        const out = await map(
          delays,
          async (ms, i) => {
            await sleep(ms);
            return i;
          },
          { concurrency: 5 },
        );
        assert.deepEqual(out, [0, 1, 2, 3, 4]);
      },
      { autoAdvance: true },
    );
  });

  it("awaits promise items of a sync iterable and gives fn (item, index, one shared signal)", async () => {
    const signals = new Set<AbortSignal>();
    const indexes: number[] = [];
    const out = await map(
      [Promise.resolve("a"), "b", Promise.resolve("c")],
      (item, index, signal) => {
        signals.add(signal);
        indexes.push(index);
        return item + index;
      },
      { concurrency: 2 },
    );
    assert.deepEqual(out, ["a0", "b1", "c2"]);
    // A promise item starts once it has resolved, so calls may start out of order.
    assert.deepEqual(
      indexes.sort((a, b) => a - b),
      [0, 1, 2],
    );
    assert.equal(signals.size, 1);
    assert.equal([...signals][0]?.aborted, false);
  });

  for (const concurrency of [1, 3, Number.POSITIVE_INFINITY]) {
    it(`never runs more than concurrency ${concurrency} calls, sync and async input`, async () => {
      for (const input of [() => Array.from({ length: 20 }, (_, i) => i), () => numbers(20)]) {
        let running = 0;
        let most = 0;
        await map(
          input(),
          async () => {
            running++;
            most = Math.max(most, running);
            await waitIdle();
            running--;
          },
          { concurrency },
        );
        assert.equal(most, Math.min(concurrency, 20));
      }
    });
  }

  it("regression: workers that finish synchronously don't respawn forever", async () => {
    let calls = 0;
    const out = await map(
      [1, 2, 3],
      (x) => {
        calls++;
        return x;
      },
      { concurrency: 10, rate: { limit: 2, interval: 0 } },
    );
    assert.deepEqual(out, [1, 2, 3]);
    assert.equal(calls, 3);
  });

  it("pulls the input lazily: never more items than calls it can run", async () => {
    for (const async of [false, true]) {
      const log = { pulled: 0, closed: false };
      const source = async ? numbers(1_000, log) : counting(1_000);
      const state = async ? log : (source as ReturnType<typeof counting>);
      let finished = 0;
      await map(
        source,
        async () => {
          // Pulled but unfinished items are exactly the ones running.
          assert.ok(state.pulled - finished <= 4, `pulled ${state.pulled}, finished ${finished}`);
          await waitIdle();
          finished++;
        },
        { concurrency: 4 },
      );
      assert.equal(finished, 1_000);
    }
  });

  it("on the first error: stops pulling, aborts the signal, waits for running calls, closes the input, rejects once", async () => {
    for (const async of [false, true]) {
      const log = { pulled: 0, closed: false };
      const source = async ? numbers(100, log) : counting(100);
      const state = async ? log : (source as ReturnType<typeof counting>);
      const boom = new Error("boom");
      let settledAfterAbort = 0;
      let aborted: unknown;
      const result = map(
        source,
        async (i, _index, signal) => {
          if (i === 3) {
            await waitIdle();
            throw boom;
          }
          try {
            await new Promise<void>((resolve, reject) => {
              signal.addEventListener("abort", () => reject(signal.reason), { once: true });
              if (i > 8) resolve();
            });
          } finally {
            if (signal.aborted) {
              aborted = signal.reason;
              await waitIdle();
              settledAfterAbort++;
            }
          }
        },
        { concurrency: 5 },
      );
      await assert.rejects(result, (error) => error === boom);
      assert.equal(settledAfterAbort, 4, "the other four running calls were cancelled and awaited");
      assert.ok(isCancellation(aborted));
      assert.equal((aborted as CancelledError).cause, boom);
      assert.equal(state.pulled, 5, "no item pulled after the failure");
      assert.equal(state.closed, true, "the input iterator was closed");
    }
  });

  it("on a failure, does not wait for a worker awaiting an input promise, and never calls fn on it later", async () => {
    let release: (value: number) => void = () => {};
    const late = new Promise<number>((resolve) => {
      release = resolve;
    });
    const input = {
      closed: false,
      *[Symbol.iterator]() {
        try {
          yield late; // a promise item the map cannot cancel
          yield 1;
          yield 2;
        } finally {
          input.closed = true;
        }
      },
    };
    const boom = new Error("boom");
    const calls: number[] = [];
    const outcome = map(
      input,
      async (x) => {
        calls.push(x);
        await Promise.resolve();
        if (x === 2) throw boom;
      },
      { concurrency: 2 },
    );
    await assert.rejects(outcome, (error) => error === boom);
    assert.equal(input.closed, true, "the input iterator was closed");
    release(0);
    await waitIdle();
    assert.deepEqual(calls, [1, 2], "the abandoned worker started no call once its input settled");
  });

  it("drops errors after the first (no unhandled rejections) and rejects with an input's own error", async () => {
    const first = new Error("first");
    await assert.rejects(
      map(
        [0, 1, 2],
        async (i, _index, signal) => {
          if (i === 0) throw first;
          await new Promise((resolve) => setImmediate(resolve));
          if (signal.aborted) throw new Error(`late ${i}`);
        },
        { concurrency: 3 },
      ),
      (error) => error === first,
    );
    const broken: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          throw new Error("input broke");
        },
      }),
    };
    await assert.rejects(
      map(broken, (x) => x, { concurrency: 2 }),
      /input broke/,
    );
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error("async input broke");
    }
    await assert.rejects(
      map(failing(), (x) => x, { concurrency: 2 }),
      /async input broke/,
    );
    await assert.rejects(
      map([Promise.reject(new Error("bad item"))], (x) => x, { concurrency: 1 }),
      /bad item/,
    );
  });

  it("with settle: true resolves to a PromiseSettledResult per item", async () => {
    const error = new Error("odd");
    const out = await map(
      [1, 2, 3],
      async (x) => {
        if (x % 2 === 1) throw error;
        return x;
      },
      { concurrency: 2, settle: true },
    );
    assert.deepEqual(out, [
      { status: "rejected", reason: error },
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: error },
    ]);
    assert.deepEqual(await map(numbers(2), (x) => x, { concurrency: 2, settle: true }), [
      { status: "fulfilled", value: 0 },
      { status: "fulfilled", value: 1 },
    ]);
  });

  it("aborting options.signal cancels running calls, waits for them, closes the input and rejects with the reason", async () => {
    for (const async of [false, true]) {
      const controller = new AbortController();
      const log = { pulled: 0, closed: false };
      const source = async ? numbers(100, log) : counting(100);
      const state = async ? log : (source as ReturnType<typeof counting>);
      let cancelled = 0;
      const reason = new CancelledError("stop");
      const result = map(
        source,
        (_x, _i, signal) =>
          new Promise<void>((_resolve, reject) => {
            signal.addEventListener(
              "abort",
              () => {
                cancelled++;
                reject(signal.reason);
              },
              { once: true },
            );
          }),
        { concurrency: 3, signal: controller.signal },
      );
      await waitIdle();
      assert.equal(getEventListeners(controller.signal, "abort").length, 1);
      controller.abort(reason);
      await assert.rejects(result, (error) => error === reason);
      assert.equal(cancelled, 3);
      assert.equal(state.closed, true);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    }
  });

  it("an already aborted signal rejects without calling fn; success removes the listener", async () => {
    let called = false;
    await assert.rejects(
      map(
        [1],
        () => {
          called = true;
        },
        { concurrency: 1, signal: AbortSignal.abort("early") },
      ),
      (e) => e === "early",
    );
    assert.equal(called, false);
    const controller = new AbortController();
    await map([1, 2], (x) => x, { concurrency: 1, signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  });

  it("with `rate`, starts at most `limit` calls per interval", async () => {
    await withVirtualClock(
      async (clock) => {
        const starts: number[] = [];
        await map(
          Array.from({ length: 7 }, (_, i) => i),
          () => {
            starts.push(clock.now());
          },
          { concurrency: 10, rate: { limit: 3, interval: 1_000 } },
        );
        assert.deepEqual(starts, [0, 0, 0, 1_000, 1_000, 1_000, 2_000]);
        const shared = new RateLimiter({ limit: 2, interval: 100 });
        const times: number[] = [];
        const record = (): void => {
          times.push(clock.now());
        };
        await Promise.all([
          map([1, 2], record, { concurrency: 2, rate: shared }),
          map(numbers(2), record, { concurrency: 2, rate: shared }),
        ]);
        assert.deepEqual(times, [2_000, 2_000, 2_100, 2_100]);
      },
      { autoAdvance: true },
    );
  });

  it("rejects bad arguments with TypeErrors (never throws synchronously)", async () => {
    const fn = (x: number): number => x;
    await assert.rejects(map([1], fn, { concurrency: 0 }), {
      name: "TypeError",
      message: /`concurrency`/,
    });
    await assert.rejects(map([1], fn, undefined as unknown as { concurrency: number }), TypeError);
    await assert.rejects(map([1], "x" as unknown as typeof fn, { concurrency: 1 }), /`fn`/);
    await assert.rejects(map(5 as unknown as number[], fn, { concurrency: 1 }), /`input`/);
    await assert.rejects(
      map([1], fn, { concurrency: 1, rate: 3 as unknown as RateLimiter }),
      /`rate`/,
    );
    await assert.rejects(map([1], fn, { concurrency: 1, signal: {} as AbortSignal }), /`signal`/);
  });

  it("property: in order, never over the limit, and on failure rejects with the first error after all calls settled", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 50 }), fail: fc.boolean() }), {
          maxLength: 25,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        async (items, concurrency, asyncInput) => {
          await withVirtualClock(
            async (clock) => {
              let running = 0;
              let most = 0;
              let pulled = 0;
              let finished = 0;
              const failures: { at: number; index: number }[] = [];
              const input = items.map((item, index) => ({ ...item, index }));
              async function* gen(): AsyncGenerator<(typeof input)[number]> {
                for (const item of input) {
                  pulled++;
                  yield item;
                }
              }
              const sync = {
                *[Symbol.iterator]() {
                  for (const item of input) {
                    pulled++;
                    yield item;
                  }
                },
              };
              const result = map(
                asyncInput ? gen() : sync,
                async (item, index, signal) => {
                  running++;
                  most = Math.max(most, running);
                  assert.ok(pulled - finished <= concurrency);
                  try {
                    await sleep(item.ms, { signal });
                    if (item.fail) {
                      failures.push({ at: clock.now(), index });
                      throw new Error(`fail ${index}`);
                    }
                    return index;
                  } finally {
                    running--;
                    finished++;
                  }
                },
                { concurrency },
              );
              const outcome = await result.then(
                (value) => ({ ok: true as const, value }),
                (error: unknown) => ({ ok: false as const, error }),
              );
              assert.ok(most <= concurrency);
              assert.equal(running, 0, "every started call settled first");
              if (outcome.ok) {
                assert.equal(failures.length, 0);
                assert.deepEqual(
                  outcome.value,
                  input.map((x) => x.index),
                );
              } else {
                assert.ok(failures.length >= 1);
                const first = failures[0] as { index: number };
                assert.equal((outcome.error as Error).message, `fail ${first.index}`);
              }
            },
            { autoAdvance: true },
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
