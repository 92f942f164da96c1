/**
 * Issue 13: cancellation you can rely on. Each block is a regression test for
 * one contract that broke: task.cancel() reaching every task, map() and
 * stream() cancellable while their source is stuck in next(), and the outer
 * cancellation winning over an inner expiry.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import {
  CancelledError,
  isCancellation,
  map,
  moveOnAfter,
  now,
  SuppressedError,
  sleep,
  stream,
  TaskGroupError,
  TimeoutError,
  taskGroup,
  timeout,
} from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

/** Waits until `signal` aborts; rejects with its reason. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

describe("task.cancel() reaches every task (issue 13.1)", () => {
  const shapes: Record<string, (work: (signal: AbortSignal) => Promise<never>) => unknown> = {
    "rest parameters":
      (work) =>
      (...args: unknown[]) =>
        work(args[0] as AbortSignal),
    "a default parameter":
      (work) =>
      (signal: AbortSignal = new AbortController().signal) =>
        work(signal),
    "`arguments`": (work) =>
      function () {
        // biome-ignore lint/complexity/noArguments: the shape under test
        return work(arguments[0] as AbortSignal);
      },
    "a wrapper": (work) => {
      const traced =
        <A extends unknown[], R>(fn: (...a: A) => R) =>
        (...a: A): R =>
          fn(...a);
      return traced(work);
    },
  };
  for (const [shape, make] of Object.entries(shapes)) {
    it(`cancels a task written with ${shape} (fn.length is 0), and not its siblings`, async () => {
      await taskGroup(async (tg) => {
        const fn = make(untilAborted) as (signal: AbortSignal) => Promise<never>;
        assert.equal(fn.length, 0);
        const target = tg.spawn(fn);
        const sibling = tg.spawn(fn);
        target.cancel();
        await assert.rejects(target, (e) => e instanceof CancelledError);
        assert.equal(target.state, "cancelled");
        assert.equal(sibling.state, "pending");
        assert.equal(tg.cancelled, false);
        sibling.cancel();
        await assert.rejects(sibling, isCancellation);
      });
    });
  }

  it("gives every task its own signal, which the group's cancellation aborts", async () => {
    const signals: AbortSignal[] = [];
    await taskGroup(async (tg) => {
      for (let i = 0; i < 3; i++) {
        tg.spawn((...args: unknown[]) => {
          signals.push(args[0] as AbortSignal);
          return untilAborted(args[0] as AbortSignal);
        });
      }
      assert.equal(new Set([...signals, tg.signal]).size, 4);
      tg.cancel();
    });
    assert.ok(signals.every((s) => s.aborted && s.reason === signals[0]?.reason));
  });

  it("adds no listener to the group's or the outer signal per task", async () => {
    const outer = new AbortController();
    await taskGroup(
      async (tg) => {
        for (let i = 0; i < 1_000; i++) tg.spawn((signal) => untilAborted(signal));
        assert.ok(getEventListeners(tg.signal, "abort").length <= 1);
        assert.ok(getEventListeners(outer.signal, "abort").length <= 1);
        tg.cancel();
      },
      { signal: outer.signal },
    );
  });
});

/** An async generator that yields 1, then waits in next() until released. */
function stuckSource(): {
  source: AsyncGenerator<number>;
  release: () => void;
  closed: () => boolean;
} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let closed = false;
  async function* gen(): AsyncGenerator<number> {
    try {
      yield 1;
      await gate;
      yield 2;
      yield 3;
    } finally {
      closed = true;
    }
  }
  return { source: gen(), release, closed: () => closed };
}

/** Follows a promise that should reject: whether it has yet, and with what. */
function watchRejection(promise: Promise<unknown>): {
  readonly settled: () => boolean;
  readonly reason: Promise<unknown>;
} {
  let settled = false;
  const reason = promise.then(
    () => assert.fail("resolved, but a rejection was expected"),
    (error: unknown) => {
      settled = true;
      return error;
    },
  );
  return { settled: () => settled, reason };
}

describe("map() and stream() with a source stuck in next() (issue 13.2)", {
  timeout: 10_000,
}, () => {
  it("map: aborting the signal rejects at once with its reason, and closes the source once it moves", async () => {
    const { source, release, closed } = stuckSource();
    const controller = new AbortController();
    const outcome = watchRejection(
      map(source, (x) => x, { concurrency: 2, signal: controller.signal }),
    );
    await waitIdle();
    const reason = new Error("stop");
    controller.abort(reason);
    await waitIdle();
    assert.equal(outcome.settled(), true, "map still waits for the stuck next()");
    assert.equal(await outcome.reason, reason);
    assert.equal(closed(), false);
    release();
    await waitIdle();
    assert.equal(closed(), true, "the source was not closed after its next() settled");
  });

  it("map: a failing call rejects at once with its error", async () => {
    const { source, release, closed } = stuckSource();
    const boom = new Error("boom");
    const p = map(
      source,
      async () => {
        await Promise.resolve();
        throw boom;
      },
      { concurrency: 2 },
    );
    const outcome = watchRejection(p);
    await waitIdle();
    assert.equal(outcome.settled(), true);
    assert.equal(await outcome.reason, boom);
    release();
    await waitIdle();
    assert.equal(closed(), true);
  });

  it("map: a pending input promise does not hold a failed map", async () => {
    const never = new Promise<number>(() => {});
    const boom = new Error("boom");
    const controller = new AbortController();
    const p = map([1, never, never], (x) => x, { concurrency: 3, signal: controller.signal });
    await waitIdle();
    controller.abort(boom);
    const outcome = watchRejection(p);
    await waitIdle();
    assert.equal(outcome.settled(), true);
    assert.equal(await outcome.reason, boom);
  });

  it("timeout around map on a stuck source rejects with the TimeoutError on time", async () => {
    await withVirtualClock(
      async () => {
        const { source } = stuckSource();
        const start = now();
        await assert.rejects(
          timeout(1_000, (signal) => map(source, (x) => x, { concurrency: 4, signal })),
          (e) => e instanceof TimeoutError,
        );
        assert.equal(now() - start, 1_000);
      },
      { autoAdvance: true },
    );
  });

  it("stream().map: a failing mapper rejects while the source is stuck", async () => {
    const { source, release, closed } = stuckSource();
    const boom = new Error("boom");
    const outcome = watchRejection(
      stream(source)
        .map(
          async () => {
            await Promise.resolve();
            throw boom;
          },
          { concurrency: 4 },
        )
        .toArray(),
    );
    await waitIdle();
    assert.equal(outcome.settled(), true, "the stream still waits for the stuck next()");
    assert.equal(await outcome.reason, boom);
    release();
    await waitIdle();
    assert.equal(closed(), true);
  });

  it("stream().map: aborting the signal rejects while the source is stuck", async () => {
    const { source, release, closed } = stuckSource();
    const controller = new AbortController();
    const outcome = watchRejection(
      stream(source, { signal: controller.signal })
        .map((x) => x, { concurrency: 4 })
        .toArray(),
    );
    await waitIdle();
    const reason = new Error("stop");
    controller.abort(reason);
    await waitIdle();
    assert.equal(outcome.settled(), true);
    assert.equal(await outcome.reason, reason);
    release();
    await waitIdle();
    assert.equal(closed(), true);
  });
});

describe("the outer cancellation wins over an inner expiry (issue 13.3)", () => {
  /** Work that, once its signal aborts, takes `cleanup` ms to wind down, then rethrows. */
  const slowToStop =
    (cleanup: number) =>
    async (signal: AbortSignal): Promise<never> => {
      try {
        return await untilAborted(signal);
      } finally {
        await sleep(cleanup);
      }
    };

  it("timeout: an outer abort during the cleanup after expiry is what the caller sees", async () => {
    await withVirtualClock(async (clock) => {
      const outer = new AbortController();
      const p = timeout(10, slowToStop(100), { signal: outer.signal });
      const checked = assert.rejects(p, (e) => e === reason);
      await clock.advance(10); // expired; the work is cleaning up
      const reason = new CancelledError("shutting down");
      outer.abort(reason);
      await clock.advance(100);
      await checked;
    });
  });

  it("timeout: with no outer abort, the expiry still gives a TimeoutError", async () => {
    await withVirtualClock(
      async () => {
        const outer = new AbortController();
        await assert.rejects(
          timeout(10, slowToStop(100), { signal: outer.signal }),
          (e) => e instanceof TimeoutError,
        );
      },
      { autoAdvance: true },
    );
  });

  it("moveOnAfter around such a timeout moves on (its own expiry), not a TimeoutError", async () => {
    await withVirtualClock(
      async () => {
        const result = await moveOnAfter(50, (signal) => timeout(10, slowToStop(100), { signal }));
        assert.equal(result, undefined);
        assert.equal(now(), 110);
      },
      { autoAdvance: true },
    );
  });

  it("a group cancelled by a failing sibling does not record the child's TimeoutError", async () => {
    await withVirtualClock(
      async () => {
        const boom = new Error("boom");
        await assert.rejects(
          taskGroup(async (tg) => {
            tg.spawn((signal) => timeout(10, slowToStop(100), { signal }));
            tg.spawn(async () => {
              await sleep(20); // after the expiry, during the cleanup
              throw boom;
            });
          }),
          (e) => {
            assert.ok(e instanceof TaskGroupError);
            assert.deepEqual(e.errors, [boom]);
            return true;
          },
        );
      },
      { autoAdvance: true },
    );
  });
});

/** A constructor with no own "prototype" yet (a bound function), for Reflect.construct. */
function constructorWithoutPrototype(): new () => object {
  function target(): void {}
  return target.bind(null) as unknown as new () => object;
}

describe("SuppressedError from Reflect.construct with an odd newTarget (issue 13.5, test262)", () => {
  it("falls back to SuppressedError.prototype when newTarget.prototype is not an object", () => {
    for (const proto of [undefined, null, 1, "x", true, Symbol("s")]) {
      const newTarget = constructorWithoutPrototype();
      Object.defineProperty(newTarget, "prototype", { value: proto });
      const error = Reflect.construct(SuppressedError, [1, 2, "m"], newTarget) as SuppressedError;
      assert.equal(Object.getPrototypeOf(error), SuppressedError.prototype, String(proto));
      assert.equal(error.error, 1);
      assert.equal(error.suppressed, 2);
      assert.equal(error.message, "m");
    }
  });

  it("uses newTarget.prototype when it is an object, and propagates an abrupt one first", () => {
    class Sub extends SuppressedError {}
    assert.equal(Object.getPrototypeOf(new Sub(1, 2)), Sub.prototype);
    const newTarget = constructorWithoutPrototype();
    const thrown = new Error("from the getter");
    let messageRead = false;
    Object.defineProperty(newTarget, "prototype", {
      get() {
        throw thrown;
      },
    });
    const message = {
      toString() {
        messageRead = true;
        return "m";
      },
    };
    assert.throws(
      () => Reflect.construct(SuppressedError, [1, 2, message], newTarget),
      (e) => e === thrown,
    );
    assert.equal(messageRead, false);
  });
});
