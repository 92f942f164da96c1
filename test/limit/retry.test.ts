import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, it } from "node:test";
import { CancelledError, RetryError, retry } from "../../src/index.js";
import { retryAfterOf } from "../../src/limit/retry.js";
import { withVirtualClock } from "../../src/testing/index.js";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`HTTP ${status}`);
    Object.assign(this, extra);
  }
}

/** fn that fails `failures` times, recording when each attempt started. */
function flaky(failures: number, now: () => number, make = (n: number) => new Error(`fail ${n}`)) {
  const calls: { attempt: number; at: number; signal: AbortSignal }[] = [];
  const fn = async (attempt: number, signal: AbortSignal): Promise<string> => {
    calls.push({ attempt, at: now(), signal });
    if (attempt <= failures) throw make(attempt);
    return `ok on ${attempt}`;
  };
  return { fn, calls };
}

describe("retry", () => {
  let random: () => number;
  beforeEach(() => {
    random = Math.random;
  });
  afterEach(() => {
    Math.random = random;
  });

  it("returns the first success; attempts count from 1 and get the signal", async () => {
    await withVirtualClock(
      async (clock) => {
        const controller = new AbortController();
        const { fn, calls } = flaky(2, () => clock.now());
        assert.equal(await retry(fn, { signal: controller.signal }), "ok on 3");
        assert.deepEqual(
          calls.map((c) => c.attempt),
          [1, 2, 3],
        );
        assert.ok(calls.every((c) => c.signal === controller.signal));
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      },
      { autoAdvance: true },
    );
  });

  it("waits exponentially, capped at maxDelay, without jitter", async () => {
    await withVirtualClock(
      async (clock) => {
        const { fn, calls } = flaky(5, () => clock.now());
        await retry(fn, { retries: 5, minDelay: 100, maxDelay: 500, factor: 2, jitter: false });
        // Waits 100, 200, 400, 500, 500.
        assert.deepEqual(
          calls.map((c) => c.at),
          [0, 100, 300, 700, 1_200, 1_700],
        );
      },
      { autoAdvance: true },
    );
  });

  it("uses full jitter: a random wait between 0 and the backoff", async () => {
    await withVirtualClock(
      async (clock) => {
        const draws = [0.5, 0, 0.999];
        Math.random = () => draws.shift() ?? 0;
        const delays: number[] = [];
        const { fn, calls } = flaky(3, () => clock.now());
        await retry(fn, {
          retries: 3,
          minDelay: 100,
          factor: 3,
          onRetry: (_error, _attempt, delay) => {
            delays.push(delay);
          },
        });
        assert.deepEqual(delays, [50, 0, 899.1]);
        assert.deepEqual(
          calls.map((c) => c.at),
          [0, 50, 50, 949.1],
        );
      },
      { autoAdvance: true },
    );
  });

  it("rejects with the error itself when fn failed once, and with a RetryError holding all errors otherwise", async () => {
    await withVirtualClock(
      async () => {
        const single = flaky(1, () => 0);
        await assert.rejects(retry(single.fn, { retries: 0 }), /^Error: fail 1$/);
        const notRetryable = new HttpError(404);
        await assert.rejects(
          retry(
            () => {
              throw notRetryable;
            },
            { retryIf: (error) => (error as HttpError).status >= 500 },
          ),
          (error) => error === notRetryable,
        );
        const many = flaky(10, () => 0);
        const error = await retry(many.fn, { retries: 2, minDelay: 1 }).catch((e: unknown) => e);
        assert.ok(error instanceof RetryError);
        assert.ok(error instanceof AggregateError);
        assert.equal(error.name, "RetryError");
        assert.equal(error.attempts, 3);
        assert.deepEqual(
          error.errors.map((e: Error) => e.message),
          ["fail 1", "fail 2", "fail 3"],
        );
        assert.equal((error.cause as Error).message, "fail 3");
        assert.equal(error.message, "Gave up after 3 attempts: fail 3");
      },
      { autoAdvance: true },
    );
  });

  it("asks retryIf (sync or async) with the error and attempt; stops when it says no", async () => {
    await withVirtualClock(
      async () => {
        const asked: number[] = [];
        const { fn, calls } = flaky(5, () => 0);
        const error = await retry(fn, {
          retries: 5,
          minDelay: 1,
          retryIf: async (_error, attempt) => {
            asked.push(attempt);
            return attempt < 2;
          },
        }).catch((e: unknown) => e);
        assert.deepEqual(asked, [1, 2]);
        assert.equal(calls.length, 2);
        assert.ok(error instanceof RetryError);
      },
      { autoAdvance: true },
    );
  });

  it("does not retry cancellations by default", async () => {
    let calls = 0;
    const cancelled = new CancelledError("elsewhere");
    await assert.rejects(
      retry(() => {
        calls++;
        throw cancelled;
      }),
      (e) => e === cancelled,
    );
    assert.equal(calls, 1);
  });

  it("awaits onRetry(error, attempt, delay) before waiting; its error rejects at once", async () => {
    await withVirtualClock(
      async (clock) => {
        const seen: [string, number, number, number][] = [];
        const { fn } = flaky(2, () => clock.now());
        await retry(fn, {
          jitter: false,
          minDelay: 10,
          onRetry: async (error, attempt, delay) => {
            seen.push([(error as Error).message, attempt, delay, clock.now()]);
          },
        });
        assert.deepEqual(seen, [
          ["fail 1", 1, 10, 0],
          ["fail 2", 2, 20, 10],
        ]);
        const broken = flaky(5, () => 0);
        await assert.rejects(
          retry(broken.fn, {
            onRetry: () => {
              throw new Error("logger down");
            },
          }),
          /logger down/,
        );
        assert.equal(broken.calls.length, 1);
      },
      { autoAdvance: true },
    );
  });

  describe("retry-after hints", () => {
    it("reads ms numbers, Dates, HTTP values and Retry-After headers", () => {
      const now = Date.now();
      assert.equal(retryAfterOf({ retryAfter: 1_500 }), 1_500);
      assert.equal(retryAfterOf({ retryAfter: "3" }), 3_000);
      const fromDate = retryAfterOf({ retryAfter: new Date(now + 10_000) }) as number;
      assert.ok(fromDate > 9_000 && fromDate <= 10_000, String(fromDate));
      const httpDate = retryAfterOf({ retryAfter: new Date(now + 60_000).toUTCString() }) as number;
      assert.ok(httpDate > 58_000 && httpDate <= 60_000, String(httpDate));
      assert.equal(retryAfterOf({ retryAfter: new Date(now - 5_000) }), 0);
      assert.equal(retryAfterOf({ headers: new Headers({ "Retry-After": "7" }) }), 7_000);
      assert.equal(retryAfterOf({ headers: { "retry-after": "2" } }), 2_000);
      assert.equal(
        retryAfterOf({ response: { headers: new Headers({ "retry-after": "1" }) } }),
        1_000,
      );
      assert.equal(
        retryAfterOf({ headers: { "retry-after": 5 } }),
        undefined,
        "a header is never ms",
      );
      assert.equal(retryAfterOf({ retryAfter: "soon" }), undefined);
      assert.equal(retryAfterOf({ retryAfter: -1 }), undefined);
      assert.equal(retryAfterOf(new Error("plain")), undefined);
      assert.equal(retryAfterOf("text"), undefined);
    });

    it("waits at least the hint (not jittered below it)", async () => {
      await withVirtualClock(
        async (clock) => {
          Math.random = () => 0;
          const { fn, calls } = flaky(
            1,
            () => clock.now(),
            () => new HttpError(429, { retryAfter: 2_500 }),
          );
          await retry(fn, { minDelay: 100 });
          assert.deepEqual(
            calls.map((c) => c.at),
            [0, 2_500],
          );
          const headers = flaky(
            1,
            () => clock.now(),
            () => new HttpError(503, { headers: new Headers({ "retry-after": "4" }) }),
          );
          await retry(headers.fn, { minDelay: 100 });
          assert.deepEqual(
            headers.calls.map((c) => c.at - (headers.calls[0]?.at ?? 0)),
            [0, 4_000],
          );
        },
        { autoAdvance: true },
      );
    });

    it("gives up at once when the hint is longer than maxDelay", async () => {
      await withVirtualClock(
        async (clock) => {
          const { fn, calls } = flaky(
            3,
            () => clock.now(),
            () => new HttpError(429, { retryAfter: 120_000 }),
          );
          await assert.rejects(retry(fn, { maxDelay: 60_000 }), /HTTP 429/);
          assert.equal(calls.length, 1);
          assert.equal(clock.now(), 0);
        },
        { autoAdvance: true },
      );
    });
  });

  describe("cancellation", () => {
    it("aborting during the wait rejects at once with the reason and clears the timer and listener", async () => {
      await withVirtualClock(async (clock) => {
        const controller = new AbortController();
        const { fn, calls } = flaky(5, () => clock.now());
        const result = retry(fn, { signal: controller.signal, minDelay: 1_000, jitter: false });
        await clock.advance(500);
        assert.equal(calls.length, 1);
        assert.equal(clock.pendingTimers, 1);
        const reason = new CancelledError("shutdown");
        controller.abort(reason);
        await assert.rejects(result, (e) => e === reason);
        assert.equal(clock.pendingTimers, 0);
        assert.equal(getEventListeners(controller.signal, "abort").length, 0);
        assert.equal(calls.length, 1);
      });
    });

    it("aborting during an attempt rejects with the reason once the attempt settles, without retrying", async () => {
      const controller = new AbortController();
      let calls = 0;
      const result = retry(
        (_attempt, signal) =>
          new Promise((_resolve, reject) => {
            calls++;
            signal.addEventListener("abort", () => reject(new Error("fetch aborted")), {
              once: true,
            });
          }),
        { signal: controller.signal },
      );
      controller.abort("stop");
      await assert.rejects(result, (e) => e === "stop");
      assert.equal(calls, 1);
    });

    it("an already aborted signal rejects without calling fn", async () => {
      let called = false;
      await assert.rejects(
        retry(
          () => {
            called = true;
          },
          { signal: AbortSignal.abort("early") },
        ),
        (e) => e === "early",
      );
      assert.equal(called, false);
    });
  });

  it("rejects bad options with TypeErrors (as a rejection, never a throw)", async () => {
    const fn = (): number => 1;
    await assert.rejects(retry(fn, { retries: -1 }), /`retries`/);
    await assert.rejects(retry(fn, { factor: 0.5 }), /`factor`/);
    await assert.rejects(retry(fn, { minDelay: -5 }), /`minDelay`/);
    await assert.rejects(retry(fn, { minDelay: 100, maxDelay: 10 }), RangeError);
    await assert.rejects(retry("x" as unknown as typeof fn), /`fn`/);
    await assert.rejects(retry(fn, { retryIf: 1 as unknown as () => boolean }), /`retryIf`/);
    await assert.rejects(retry(fn, { signal: {} as AbortSignal }), /`signal`/);
  });
});
