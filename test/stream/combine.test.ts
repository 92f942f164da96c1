import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { merge, Stream, sleep, stream, zip } from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

interface Log {
  pulled: number;
  closed: boolean;
}

function timed(name: string, delays: number[], log: Log = { pulled: 0, closed: false }) {
  return (async function* () {
    try {
      for (const [i, ms] of delays.entries()) {
        await sleep(ms);
        log.pulled++;
        yield `${name}${i}`;
      }
    } finally {
      log.closed = true;
    }
  })();
}

describe("merge", () => {
  it("interleaves items in the order they arrive", async () => {
    await withVirtualClock(
      async () => {
        const out = await merge(timed("a", [10, 10, 10]), timed("b", [5, 20]), ["c0"]).toArray();
        assert.deepEqual(out, ["c0", "b0", "a0", "a1", "b1", "a2"]);
      },
      { autoAdvance: true },
    );
  });

  it("never pulls a source more than one item ahead of the consumer", async () => {
    const log = { pulled: 0, closed: false };
    async function* fast(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          log.pulled++;
          yield i;
        }
      } finally {
        log.closed = true;
      }
    }
    const it = merge(fast(), [100])[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    for (let i = 0; i < 10; i++) await waitIdle();
    assert.ok(log.pulled <= 3, `pulled ${log.pulled}`);
    await it.return?.();
    assert.equal(log.closed, true);
  });

  it("the first error closes the other sources and surfaces once", async () => {
    await withVirtualClock(
      async () => {
        const other = { pulled: 0, closed: false };
        async function* failing(): AsyncGenerator<string> {
          await sleep(15);
          if (other.pulled >= 0) throw new Error("source b broke");
          yield "never";
        }
        const it = merge(timed("a", [10, 10, 10, 10], other), failing())[Symbol.asyncIterator]();
        assert.deepEqual(await it.next(), { value: "a0", done: false });
        await assert.rejects(it.next(), /source b broke/);
        assert.equal(other.closed, true);
        assert.deepEqual(await it.next(), { value: undefined, done: true });
      },
      { autoAdvance: true },
    );
  });

  it("ending early closes every source; merging nothing is empty", async () => {
    await withVirtualClock(
      async () => {
        const a = { pulled: 0, closed: false };
        const b = { pulled: 0, closed: false };
        const out = await merge(timed("a", [1, 1, 1], a), timed("b", [2, 2, 2], b))
          .take(2)
          .toArray();
        assert.equal(out.length, 2);
        assert.equal(a.closed, true);
        assert.equal(b.closed, true);
        assert.deepEqual(await merge().toArray(), []);
      },
      { autoAdvance: true },
    );
  });

  it("merges streams built with operators", async () => {
    const evens = stream([0, 2, 4]);
    const odds = Stream.from([1, 3]).map((x) => x);
    const out = await merge(evens, odds).toArray();
    assert.deepEqual([...out].sort(), [0, 1, 2, 3, 4]);
    assert.throws(() => merge(7 as unknown as number[]), TypeError);
  });
});

describe("zip", () => {
  it("yields tuples of one item from each source", async () => {
    const out: [number, string][] = await zip([1, 2, 3], stream(["a", "b", "c"])).toArray();
    assert.deepEqual(out, [
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
  });

  it("ends with the shortest source and closes the others", async () => {
    await withVirtualClock(
      async () => {
        const long = { pulled: 0, closed: false };
        const out = await zip(timed("x", [1, 1, 1, 1, 1], long), ["p", "q"]).toArray();
        assert.deepEqual(out, [
          ["x0", "p"],
          ["x1", "q"],
        ]);
        assert.equal(long.closed, true);
        assert.deepEqual(await zip().toArray(), []);
      },
      { autoAdvance: true },
    );
  });

  it("fails with a source's error after closing the others", async () => {
    const other = { pulled: 0, closed: false };
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error("zip source broke");
    }
    await withVirtualClock(
      async () => {
        await assert.rejects(
          zip(timed("a", [1, 1, 1], other), failing()).toArray(),
          /zip source broke/,
        );
        assert.equal(other.closed, true);
      },
      { autoAdvance: true },
    );
  });

  it("ending early closes every source", async () => {
    const a = { pulled: 0, closed: false };
    const b = { pulled: 0, closed: false };
    await withVirtualClock(
      async () => {
        const out = await zip(timed("a", [1, 1, 1], a), timed("b", [1, 1, 1], b))
          .take(1)
          .toArray();
        assert.deepEqual(out, [["a0", "b0"]]);
        assert.equal(a.closed, true);
        assert.equal(b.closed, true);
      },
      { autoAdvance: true },
    );
  });
});
