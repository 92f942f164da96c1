import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CancelledError, isCancellation, RateLimiter, sleep, stream } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

interface Log {
  pulled: number;
  closed: boolean;
}

/** An async generator over 0..n-1 (n may be Infinity) that logs pulls and closing. */
function source(n: number, log: Log = { pulled: 0, closed: false }): AsyncGenerator<number> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        log.pulled++;
        yield i;
      }
    } finally {
      log.closed = true;
    }
  })();
}

/** A function that never settles until its signal aborts; counts cancellations. */
function hanging(counter: { cancelled: number; reasons: unknown[] }) {
  return (_item: unknown, _index: number, signal: AbortSignal): Promise<never> =>
    new Promise((_resolve, reject) => {
      signal.addEventListener(
        "abort",
        () => {
          counter.cancelled++;
          counter.reasons.push(signal.reason);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

describe("stream concurrency", () => {
  it("map with concurrency keeps input order and runs at most `concurrency` calls", async () => {
    await withVirtualClock(
      async () => {
        let running = 0;
        let most = 0;
        const delays = [50, 10, 40, 0, 30, 20, 5, 45];
        const out = await stream(delays)
          .map(
            async (ms, i) => {
              running++;
              most = Math.max(most, running);
              await sleep(ms);
              running--;
              return i;
            },
            { concurrency: 3 },
          )
          .toArray();
        assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert.equal(most, 3);
      },
      { autoAdvance: true },
    );
  });

  it("ordered: false hands out results as they finish", async () => {
    await withVirtualClock(
      async () => {
        const out = await stream([30, 10, 20])
          .map(
            async (ms) => {
              await sleep(ms);
              return ms;
            },
            { concurrency: 3, ordered: false },
          )
          .toArray();
        assert.deepEqual(out, [10, 20, 30]);
      },
      { autoAdvance: true },
    );
  });

  it("is lazy: nothing is pulled or called before the first next()", async () => {
    const log = { pulled: 0, closed: false };
    let calls = 0;
    const s = stream(source(10, log)).map(
      (x) => {
        calls++;
        return x;
      },
      { concurrency: 4 },
    );
    await waitIdle();
    assert.equal(log.pulled, 0);
    assert.equal(calls, 0);
    const it = s[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { value: 0, done: false });
    await it.return?.();
    assert.equal(log.closed, true);
  });

  for (const ordered of [true, false]) {
    it(`pulls the source no further ahead of the consumer than the concurrency allows (ordered: ${ordered})`, async () => {
      const log = { pulled: 0, closed: false };
      const concurrency = 4;
      const slowHead = { release: (): void => undefined };
      const headGate = new Promise<void>((resolve) => {
        slowHead.release = resolve;
      });
      const s = stream(source(Number.POSITIVE_INFINITY, log)).map(
        async (x) => {
          if (x === 0) await headGate; // a slow head: the others finish first
          return x;
        },
        { concurrency, ordered },
      );
      const it = s[Symbol.asyncIterator]();
      let consumed = 0;
      const first = it.next().then((result) => {
        consumed++;
        return result;
      });
      for (let i = 0; i < 20; i++) await waitIdle();
      // While the head is stuck: at most `concurrency` items pulled (running or
      // done) beyond what the consumer got (ordered, it got nothing yet).
      assert.equal(log.pulled, consumed + concurrency);
      if (ordered) assert.equal(consumed, 0);
      slowHead.release();
      await first;
      for (let step = 0; step < 50; step++) {
        // The consumer stalls: the stage refills its window and stops.
        for (let i = 0; i < 5; i++) await waitIdle();
        assert.ok(
          log.pulled <= consumed + concurrency,
          `pulled ${log.pulled} with ${consumed} consumed`,
        );
        await it.next();
        consumed++;
      }
      for (let i = 0; i < 5; i++) await waitIdle();
      assert.equal(log.pulled, consumed + concurrency);
      await it.return?.();
      assert.equal(log.closed, true);
    });
  }

  it("ordered: a slow head holds back at most `concurrency` results (no head-of-line growth)", async () => {
    let started = 0;
    const head = { release: (): void => undefined };
    const gate = new Promise<void>((resolve) => {
      head.release = resolve;
    });
    const it = stream(source(1_000))
      .map(
        async (x) => {
          started++;
          if (x === 0) await gate;
          return x;
        },
        { concurrency: 8 },
      )
      [Symbol.asyncIterator]();
    const first = it.next();
    for (let i = 0; i < 30; i++) await waitIdle();
    assert.equal(started, 8, "7 finished results wait behind the head, no more");
    head.release();
    assert.deepEqual(await first, { value: 0, done: false });
    await it.return?.();
  });

  it("on the first error: cancels running calls, waits for them, closes the source, and fails the consumer once", async () => {
    const log = { pulled: 0, closed: false };
    const counter = { cancelled: 0, reasons: [] as unknown[] };
    const wait = hanging(counter);
    const boom = new Error("boom");
    let settled = 0;
    const s = stream(source(100, log)).map(
      async (x, i, signal) => {
        if (x === 3) {
          await waitIdle();
          throw boom;
        }
        try {
          return await wait(x, i, signal);
        } finally {
          settled++;
        }
      },
      { concurrency: 5 },
    );
    const it = s[Symbol.asyncIterator]();
    await assert.rejects(it.next(), (e) => e === boom);
    assert.equal(counter.cancelled, 4);
    assert.equal(settled, 4, "running calls settled before the error surfaced");
    assert.ok(counter.reasons.every((r) => r instanceof CancelledError && r.cause === boom));
    assert.equal(log.closed, true);
    assert.equal(log.pulled, 5);
    assert.deepEqual(await it.next(), { value: undefined, done: true }, "the error surfaces once");
  });

  it("an error of the source reaches the consumer after running calls are cancelled (the source is not closed again)", async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error("source broke");
    }
    const counter = { cancelled: 0, reasons: [] as unknown[] };
    await assert.rejects(
      stream(failing()).map(hanging(counter), { concurrency: 4 }).toArray(),
      /source broke/,
    );
    assert.equal(counter.cancelled, 2);
  });

  it("breaking out of for await cancels running calls, waits for them and closes the source", async () => {
    const log = { pulled: 0, closed: false };
    const counter = { cancelled: 0, reasons: [] as unknown[] };
    const wait = hanging(counter);
    let settled = 0;
    for await (const x of stream(source(100, log)).map(
      async (x, i, signal) => {
        if (x === 0) return x;
        try {
          return await wait(x, i, signal);
        } finally {
          await waitIdle();
          settled++;
        }
      },
      { concurrency: 3 },
    )) {
      assert.equal(x, 0);
      for (let i = 0; i < 10; i++) await waitIdle(); // let the window fill
      break;
    }
    assert.equal(counter.cancelled, 3);
    assert.equal(settled, 3, "for await waited for the cancelled calls");
    assert.ok(counter.reasons.every((r) => isCancellation(r)));
    assert.equal(log.closed, true);
  });

  it("take(n) after a concurrent map stops pulling and cancels the work ahead", async () => {
    const log = { pulled: 0, closed: false };
    const seen: number[] = [];
    let started = 0;
    let cancelled = 0;
    const out = await stream(source(Number.POSITIVE_INFINITY, log))
      .map(
        async (x, _i, signal) => {
          started++;
          if (x >= 2) {
            await new Promise((_resolve, reject) =>
              signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
            ).catch((error: unknown) => {
              cancelled++;
              throw error;
            });
          }
          seen.push(x);
          return x;
        },
        { concurrency: 4, ordered: false },
      )
      .take(2)
      .toArray();
    assert.deepEqual(out, [0, 1]);
    assert.equal(log.closed, true);
    assert.equal(cancelled, started - 2, "every call past the first two was cancelled");
    assert.ok(log.pulled <= 2 + 4);
  });

  it("aborting the stream's signal rejects the pending next with the reason, cancels calls, closes the source and removes listeners", async () => {
    const log = { pulled: 0, closed: false };
    const controller = new AbortController();
    const counter = { cancelled: 0, reasons: [] as unknown[] };
    const s = stream(source(100, log), { signal: controller.signal }).map(hanging(counter), {
      concurrency: 3,
    });
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    await waitIdle();
    assert.equal(getEventListeners(controller.signal, "abort").length, 1);
    const reason = new CancelledError("user left");
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    assert.equal(counter.cancelled, 3);
    assert.ok(
      counter.reasons.every((r) => r === reason),
      "fns see the signal's own reason",
    );
    assert.equal(log.closed, true);
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("a terminal's signal cancels that iteration only", async () => {
    const controller = new AbortController();
    const counter = { cancelled: 0, reasons: [] as unknown[] };
    const s = stream(source(10)).map(hanging(counter), { concurrency: 2 });
    const all = s.toArray({ signal: controller.signal });
    await waitIdle();
    controller.abort("enough");
    await assert.rejects(all, (e) => e === "enough");
    assert.equal(counter.cancelled, 2);
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    await assert.rejects(
      s.toArray({ signal: AbortSignal.abort("already") }),
      (e) => e === "already",
    );
    // A terminal that completes removes its listener too, also when two signals combine.
    const done = new AbortController();
    const own = new AbortController();
    assert.deepEqual(
      await stream([1, 2], { signal: own.signal })
        .map((x) => x, { concurrency: 2 })
        .toArray({ signal: done.signal }),
      [1, 2],
    );
    assert.equal(getEventListeners(done.signal, "abort").length, 0);
    assert.equal(getEventListeners(own.signal, "abort").length, 0);
    // The stream itself is fine: a new iteration works.
    assert.deepEqual(
      await stream([1, 2])
        .map((x) => x, { concurrency: 2 })
        .toArray(),
      [1, 2],
    );
  });

  it("rejects a second next() while one is pending", async () => {
    const it = stream(source(10))
      .map(async (x) => x, { concurrency: 2 })
      [Symbol.asyncIterator]();
    const first = it.next();
    await assert.rejects(it.next(), { name: "TypeError", message: /one next\(\) at a time/ });
    assert.deepEqual(await first, { value: 0, done: false });
    await it.return?.();
  });

  for (const ordered of [true, false]) {
    it(`filter with concurrency keeps the accepted items (ordered: ${ordered})`, async () => {
      await withVirtualClock(
        async () => {
          const out = await stream(Array.from({ length: 20 }, (_, i) => i))
            .filter(
              async (x) => {
                await sleep(20 - x);
                return x % 3 === 0;
              },
              { concurrency: 4, ordered },
            )
            .toArray();
          const expected = [0, 3, 6, 9, 12, 15, 18];
          if (ordered) assert.deepEqual(out, expected);
          else
            assert.deepEqual(
              [...out].sort((a, b) => a - b),
              expected,
            );
        },
        { autoAdvance: true },
      );
    });
  }

  it("flatMap with concurrency runs the function concurrently and flattens in order", async () => {
    await withVirtualClock(
      async () => {
        let running = 0;
        let most = 0;
        const out = await stream([3, 1, 2])
          .flatMap(
            async (n) => {
              running++;
              most = Math.max(most, running);
              await sleep(10 * n);
              running--;
              return Array.from({ length: n }, () => n);
            },
            { concurrency: 3 },
          )
          .toArray();
        assert.deepEqual(out, [3, 3, 3, 1, 2, 2]);
        assert.equal(most, 3);
      },
      { autoAdvance: true },
    );
  });

  it("forEach with concurrency runs every call, at most `concurrency` at once, and rejects on the first error", async () => {
    let running = 0;
    let most = 0;
    let done = 0;
    await stream(source(50)).forEach(
      async () => {
        running++;
        most = Math.max(most, running);
        await waitIdle();
        running--;
        done++;
      },
      { concurrency: 5 },
    );
    assert.equal(done, 50);
    assert.equal(most, 5);
    const log = { pulled: 0, closed: false };
    await assert.rejects(
      stream(source(50, log)).forEach(
        async (x) => {
          if (x === 7) throw new Error("seven");
        },
        { concurrency: 3 },
      ),
      /seven/,
    );
    assert.equal(log.closed, true);
  });

  it("the `rate` option limits how often the function starts, per iteration or shared", async () => {
    await withVirtualClock(
      async (clock) => {
        const starts: number[] = [];
        const s = stream([1, 2, 3, 4, 5]).map(
          (x) => {
            starts.push(clock.now());
            return x;
          },
          { concurrency: 5, rate: { limit: 2, interval: 100 } },
        );
        await s.toArray();
        assert.deepEqual(starts, [0, 0, 100, 100, 200]);
        starts.length = 0;
        await s.toArray(); // a fresh limiter for this iteration
        assert.deepEqual(starts, [200, 200, 300, 300, 400]);
        const shared = new RateLimiter({ limit: 1, interval: 50 });
        starts.length = 0;
        await stream([1, 2])
          .map(() => starts.push(clock.now()), { rate: shared })
          .toArray();
        assert.deepEqual(starts, [400, 450]);
      },
      { autoAdvance: true },
    );
  });

  it("rejects bad options eagerly with TypeErrors", () => {
    const s = stream([1]);
    assert.throws(() => s.map((x) => x, { concurrency: 0 }), /`concurrency`/);
    assert.throws(() => s.map((x) => x, { ordered: "yes" as unknown as boolean }), /`ordered`/);
    assert.throws(() => s.filter(1 as unknown as () => boolean), /`fn`/);
    assert.throws(() => s.map((x) => x, { rate: { limit: 0, interval: 1 } }), /`limit`/);
  });

  it("property: order (or multiset), window bounds, single error and full cleanup under random timings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ ms: fc.integer({ min: 0, max: 30 }), fail: fc.integer({ min: 0, max: 9 }) }),
          { maxLength: 20 },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        async (items, concurrency, ordered, takeN) => {
          await withVirtualClock(
            async () => {
              const log = { pulled: 0, closed: false };
              let running = 0;
              let consumed = 0;
              const failed: number[] = [];
              const plan = items.map((item) => ({ ms: item.ms, fail: item.fail === 0 }));
              async function* gen(): AsyncGenerator<number> {
                try {
                  for (let i = 0; i < plan.length; i++) {
                    log.pulled++;
                    yield i;
                  }
                } finally {
                  log.closed = true;
                }
              }
              let s = stream(gen()).map(
                async (i, _index, signal) => {
                  running++;
                  assert.ok(running <= concurrency);
                  // The consumer's count lags the stage's hand-out by a tick: allow one.
                  assert.ok(log.pulled - consumed <= concurrency + 1, "window bound");
                  try {
                    await sleep((plan[i] as { ms: number }).ms, { signal });
                    if ((plan[i] as { fail: boolean }).fail) {
                      failed.push(i);
                      throw new Error(`item ${i}`);
                    }
                    return i;
                  } finally {
                    running--;
                  }
                },
                { concurrency, ordered },
              );
              if (takeN !== undefined) s = s.take(takeN);
              const out: number[] = [];
              let error: unknown;
              try {
                for await (const x of s) {
                  out.push(x);
                  consumed++;
                }
              } catch (e) {
                error = e;
              }
              assert.equal(running, 0, "no call outlives the iteration");
              if (error !== undefined) {
                assert.ok(failed.length > 0);
                assert.equal((error as Error).message, `item ${failed[0]}`);
                if (log.pulled < plan.length) assert.equal(log.closed, true);
              } else {
                const expected = plan.map((_, i) => i).slice(0, takeN ?? plan.length);
                if (ordered || takeN === undefined) {
                  assert.deepEqual(ordered ? out : [...out].sort((a, b) => a - b), expected);
                } else {
                  assert.equal(out.length, Math.min(takeN, plan.length));
                }
                // (A generator never started has no finally to run.)
                if (takeN !== undefined && takeN < plan.length && log.pulled > 0) {
                  assert.equal(log.closed, true);
                }
              }
            },
            { autoAdvance: true },
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
