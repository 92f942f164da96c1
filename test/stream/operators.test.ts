import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  RateLimiter,
  Stream,
  sleep,
  stream,
  TimeoutError,
} from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

interface Log {
  pulled: number;
  closed: boolean;
}

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

describe("stream operators", () => {
  it("map, filter and tap one item at a time, with (item, index, signal)", async () => {
    const tapped: [number, number][] = [];
    const signals = new Set<AbortSignal>();
    const out = await stream([1, 2, 3, 4, 5])
      .map(async (x, i, signal) => {
        signals.add(signal);
        return x * 10 + i;
      })
      .filter((x) => x % 20 !== 1)
      .tap((x, i) => {
        tapped.push([x, i]);
      })
      .toArray();
    assert.deepEqual(out, [10, 32, 43, 54]);
    assert.deepEqual(tapped, [
      [10, 0],
      [32, 1],
      [43, 2],
      [54, 3],
    ]);
    assert.equal(signals.size, 1);
  });

  it("narrows types with a type-guard filter", async () => {
    const out: number[] = await stream<number | string>([1, "a", 2])
      .filter((x): x is number => typeof x === "number")
      .toArray();
    assert.deepEqual(out, [1, 2]);
  });

  it("a serial stage's error closes the source and surfaces once", async () => {
    const log = { pulled: 0, closed: false };
    const it = stream(source(10, log))
      .map((x) => {
        if (x === 2) throw new Error("two");
        return x;
      })
      [Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { value: 0, done: false });
    assert.deepEqual(await it.next(), { value: 1, done: false });
    await assert.rejects(it.next(), /two/);
    assert.equal(log.closed, true);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("flatMap flattens arrays, iterables, async iterables and streams, and rejects strings", async () => {
    const out = await stream([1, 2, 3, 4])
      .flatMap((n) => {
        if (n === 1) return [1, 1];
        if (n === 2) return source(2);
        if (n === 3) return stream(new Set([3]));
        return new ReadableStream<number>({
          start(controller) {
            controller.enqueue(4);
            controller.close();
          },
        });
      })
      .toArray();
    assert.deepEqual(out, [1, 1, 0, 1, 3, 4]);
    await assert.rejects(
      stream(["ab"])
        .flatMap((s) => s as unknown as string[])
        .toArray(),
      TypeError,
    );
  });

  it("flatMap closes the inner and the outer source when stopped early", async () => {
    const outer = { pulled: 0, closed: false };
    const inner = { pulled: 0, closed: false };
    const out = await stream(source(5, outer))
      .flatMap(() => source(10, inner))
      .take(3)
      .toArray();
    assert.deepEqual(out, [0, 1, 2]);
    assert.equal(inner.closed, true);
    assert.equal(outer.closed, true);
  });

  it("take hands out `limit` items and closes the source without pulling another", async () => {
    const log = { pulled: 0, closed: false };
    assert.deepEqual(await stream(source(100, log)).take(3).toArray(), [0, 1, 2]);
    assert.equal(log.pulled, 3);
    assert.equal(log.closed, true);
    assert.deepEqual(await stream([1, 2]).take(5).toArray(), [1, 2]);
    const zero = { pulled: 0, closed: false };
    assert.deepEqual(await stream(source(5, zero)).take(0).toArray(), []);
    assert.equal(zero.pulled, 0);
  });

  it("drop skips the first items", async () => {
    assert.deepEqual(await stream(source(5)).drop(2).toArray(), [2, 3, 4]);
    assert.deepEqual(await stream([1]).drop(3).toArray(), []);
    assert.deepEqual(await stream(source(5)).drop(1).take(2).toArray(), [1, 2]);
  });

  it("batch groups items; the last batch may be short", async () => {
    assert.deepEqual(await stream(source(7)).batch(3).toArray(), [[0, 1, 2], [3, 4, 5], [6]]);
    assert.deepEqual(await stream([]).batch(3).toArray(), []);
  });

  it("batch with maxWait hands out a partial batch when its first item has waited long enough", async () => {
    await withVirtualClock(
      async (clock) => {
        async function* slow(): AsyncGenerator<number> {
          yield 1;
          yield 2;
          await sleep(100);
          yield 3; // t=100: batch [1, 2] was handed out at t=50
          await sleep(10);
          yield 4;
          yield 5;
          yield 6;
        }
        const seen: [number[], number][] = [];
        for await (const batch of stream(slow()).batch(4, { maxWait: 50 })) {
          seen.push([batch, clock.now()]);
        }
        assert.deepEqual(seen, [
          [[1, 2], 50],
          [[3, 4, 5, 6], 110],
        ]);
        assert.equal(clock.pendingTimers, 0);
      },
      { autoAdvance: true },
    );
  });

  it("buffer reads ahead of the consumer up to its size, and delivers the source's error after the items", async () => {
    const log = { pulled: 0, closed: false };
    const it = stream(source(100, log)).buffer(5)[Symbol.asyncIterator]();
    assert.equal(log.pulled, 0, "lazy until the first next()");
    assert.deepEqual(await it.next(), { value: 0, done: false });
    for (let i = 0; i < 10; i++) await waitIdle();
    assert.equal(log.pulled, 6, "one handed out, five read ahead");
    await it.return?.();
    assert.equal(log.closed, true);
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error("late");
    }
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const x of stream(failing()).buffer(10)) got.push(x);
      })(),
      /late/,
    );
    assert.deepEqual(got, [1, 2]);
  });

  it("throttle passes at most `limit` items per interval", async () => {
    await withVirtualClock(
      async (clock) => {
        const times: number[] = [];
        for await (const _ of stream([1, 2, 3, 4, 5]).throttle({ limit: 2, interval: 1_000 })) {
          times.push(clock.now());
        }
        assert.deepEqual(times, [0, 0, 1_000, 1_000, 2_000]);
        const shared = new RateLimiter({ limit: 1, interval: 10 });
        times.length = 0;
        await stream([1, 2])
          .throttle(shared)
          .forEach(() => {
            times.push(clock.now());
          });
        assert.deepEqual(times, [2_000, 2_010]);
      },
      { autoAdvance: true },
    );
  });

  it("timeout fails with a TimeoutError when an item takes too long, and asks the source to close", async () => {
    await withVirtualClock(
      async (clock) => {
        const log = { pulled: 0, closed: false };
        async function* slow(): AsyncGenerator<number> {
          try {
            yield 1;
            await sleep(50);
            yield 2;
            await sleep(500);
            yield 3;
          } finally {
            log.closed = true;
          }
        }
        const got: number[] = [];
        const error = await (async () => {
          for await (const x of stream(slow()).timeout(100)) got.push(x);
        })().catch((e: unknown) => e);
        assert.ok(error instanceof TimeoutError);
        assert.equal(error.ms, 100);
        assert.deepEqual(got, [1, 2]);
        assert.equal(clock.now(), 150);
        await clock.runAll();
        assert.equal(log.closed, true, "closed once its pending step finished");
      },
      { autoAdvance: true },
    );
  });

  it("timeout clears its timer after every item (none left when the stream ends in time)", async () => {
    await withVirtualClock(
      async (clock) => {
        assert.deepEqual(await stream(source(3)).timeout(1_000).toArray(), [0, 1, 2]);
        assert.equal(clock.pendingTimers, 0);
      },
      { autoAdvance: true },
    );
  });

  it("catch goes on with the handler's source, or ends; the handler's error propagates", async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error("broken");
    }
    const seen: unknown[] = [];
    assert.deepEqual(
      await stream(failing())
        .catch((error) => {
          seen.push((error as Error).message);
          return [8, 9];
        })
        .toArray(),
      [1, 8, 9],
    );
    assert.deepEqual(seen, ["broken"]);
    assert.deepEqual(
      await stream(failing())
        .catch(() => {})
        .toArray(),
      [1],
    );
    await assert.rejects(
      stream(failing())
        .catch(async () => {
          throw new Error("handler failed");
        })
        .toArray(),
      /handler failed/,
    );
  });

  it("catch does not swallow the iteration's own cancellation", async () => {
    const controller = new AbortController();
    let handled = false;
    const it = stream(source(Number.POSITIVE_INFINITY))
      .map(
        (_x, _i, signal) =>
          new Promise((_resolve, reject) =>
            signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
          ),
        { concurrency: 2 },
      )
      .catch(() => {
        handled = true;
        return [];
      })
      .toArray({ signal: controller.signal });
    await waitIdle();
    controller.abort(new CancelledError("bye"));
    await assert.rejects(it, CancelledError);
    assert.equal(handled, false);
  });

  it("reduce folds with or without an initial value; an empty stream without one is a TypeError", async () => {
    assert.equal(await stream([1, 2, 3]).reduce((a, b) => a + b), 6);
    assert.equal(await stream([1, 2, 3]).reduce(async (a, b, i) => a + b * i, 100), 108);
    assert.equal(await stream<number>([]).reduce((a, b) => a + b, 5), 5);
    await assert.rejects(
      stream<number>([]).reduce((a, b) => a + b),
      TypeError,
    );
  });

  it("some, every and find stop early and close the source", async () => {
    const log1 = { pulled: 0, closed: false };
    assert.equal(await stream(source(100, log1)).some((x) => x === 3), true);
    assert.equal(log1.pulled, 4);
    assert.equal(log1.closed, true);
    assert.equal(await stream([1, 2]).some((x) => x > 5), false);
    const log2 = { pulled: 0, closed: false };
    assert.equal(await stream(source(100, log2)).every(async (x) => x < 2), false);
    assert.equal(log2.closed, true);
    assert.equal(await stream([1, 2]).every((x) => x > 0), true);
    const log3 = { pulled: 0, closed: false };
    assert.equal(await stream(source(100, log3)).find((x, i) => x * i === 16), 4);
    assert.equal(log3.closed, true);
    assert.equal(await stream([1, 2]).find((x) => x > 5), undefined);
  });

  it("forEach runs in order one at a time by default; an error in it closes the source", async () => {
    const seen: number[] = [];
    await stream(source(4)).forEach(async (x, i) => {
      await waitIdle();
      seen.push(x + i);
    });
    assert.deepEqual(seen, [0, 2, 4, 6]);
    const log = { pulled: 0, closed: false };
    await assert.rejects(
      stream(source(10, log)).forEach((x) => {
        if (x === 1) throw new Error("one");
      }),
      /one/,
    );
    assert.equal(log.closed, true);
  });

  it("an error in the consumer's loop body closes the chain (for await calls return)", async () => {
    const log = { pulled: 0, closed: false };
    let cancelled = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of stream(source(100, log)).map(
          async (x, _i, signal) => {
            if (x > 0) {
              await new Promise((_r, reject) =>
                signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
              ).catch((e: unknown) => {
                cancelled++;
                throw e;
              });
            }
            return x;
          },
          { concurrency: 3 },
        )) {
          for (let i = 0; i < 5; i++) await waitIdle();
          throw new Error("body failed");
        }
      })(),
      /body failed/,
    );
    assert.equal(cancelled, 3);
    assert.equal(log.closed, true);
  });

  it("each iteration opens the source anew (an array stream can be iterated twice)", async () => {
    const s = stream([1, 2, 3]).map((x) => x * 2);
    assert.deepEqual(await s.toArray(), [2, 4, 6]);
    assert.deepEqual(await s.toArray(), [2, 4, 6]);
  });

  it("toReadableStream reads lazily and cancelling it closes the source", async () => {
    const log = { pulled: 0, closed: false };
    const readable = stream(source(100, log)).toReadableStream();
    await waitIdle();
    assert.equal(log.pulled, 0);
    const reader = readable.getReader();
    assert.deepEqual(await reader.read(), { value: 0, done: false });
    assert.deepEqual(await reader.read(), { value: 1, done: false });
    for (let i = 0; i < 5; i++) await waitIdle();
    assert.equal(log.pulled, 2, "no read-ahead");
    await reader.cancel();
    assert.equal(log.closed, true);
    const all: number[] = [];
    for await (const x of stream([
      1, 2, 3,
    ]).toReadableStream() as unknown as AsyncIterable<number>) {
      all.push(x);
    }
    assert.deepEqual(all, [1, 2, 3]);
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error("mid-stream");
    }
    const failingReader = stream(failing()).toReadableStream().getReader();
    await failingReader.read();
    await assert.rejects(failingReader.read(), /mid-stream/);
  });

  it("rejects bad arguments eagerly with TypeErrors", async () => {
    assert.throws(() => stream(42 as unknown as number[]), /source/);
    assert.throws(() => new Stream([1], { signal: 1 as unknown as AbortSignal }), /`signal`/);
    const s = stream([1]);
    assert.throws(() => s.take(-1), /`limit`/);
    assert.throws(() => s.drop(1.5), /`count`/);
    assert.throws(() => s.batch(0), /`size`/);
    assert.throws(() => s.batch(2, { maxWait: -1 }), /`maxWait`/);
    assert.throws(() => s.buffer(0), /`size`/);
    assert.throws(() => s.timeout(-5), /`ms`/);
    assert.throws(() => s.throttle({ limit: 0, interval: 5 }), /`limit`/);
    assert.throws(() => s.catch(3 as unknown as () => void), /`handler`/);
    await assert.rejects(s.reduce(3 as unknown as (a: number, b: number) => number), /`fn`/);
    await assert.rejects(s.toArray({ signal: "x" as unknown as AbortSignal }), /`signal`/);
  });
});
