import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AsyncExitStack, SuppressedError } from "../../src/index.js";

function asyncDisposable(log: string[], name: string, fail?: unknown): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      await Promise.resolve();
      log.push(name);
      if (fail !== undefined) throw fail;
    },
  };
}

describe("AsyncExitStack", () => {
  it("disposes in reverse order of registration, awaiting each", async () => {
    const log: string[] = [];
    const stack = new AsyncExitStack();
    stack.use(asyncDisposable(log, "a"));
    stack.defer(async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      log.push("b");
    });
    stack.adopt("c", async (value) => {
      log.push(value);
    });
    stack.use({ [Symbol.dispose]: () => log.push("d") });
    await stack.disposeAsync();
    assert.deepEqual(log, ["d", "c", "b", "a"]);
    assert.equal(stack.disposed, true);
  });

  it("works with await using, also when the block throws", async () => {
    const log: string[] = [];
    await assert.rejects(
      (async () => {
        await using stack = new AsyncExitStack();
        stack.use(asyncDisposable(log, "a"));
        stack.use(asyncDisposable(log, "b"));
        throw new Error("block");
      })(),
      { message: "block" },
    );
    assert.deepEqual(log, ["b", "a"]);
  });

  it("returns what use() and adopt() were given, and undefined from defer()", () => {
    const stack = new AsyncExitStack();
    const r = asyncDisposable([], "x");
    assert.equal(stack.use(r), r);
    assert.equal(
      stack.adopt(42, () => {}),
      42,
    );
    assert.equal(
      stack.defer(() => {}),
      undefined,
    );
  });

  it("runs every disposer even when earlier ones throw, and throws the only error as is", async () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const stack = new AsyncExitStack();
    stack.use(asyncDisposable(log, "a"));
    stack.use(asyncDisposable(log, "b", boom));
    stack.use(asyncDisposable(log, "c"));
    await assert.rejects(stack.disposeAsync(), (error) => error === boom);
    assert.deepEqual(log, ["c", "b", "a"]);
  });

  it("chains several failures as TC39's DisposeResources does: newest outside", async () => {
    // Registered 1, 2, 3 → run 3, 2, 1 → 3's error is suppressed by 2's, that pair by 1's.
    const e1 = new Error("1");
    const e2 = new Error("2");
    const e3 = new Error("3");
    const stack = new AsyncExitStack();
    stack.defer(() => {
      throw e1;
    });
    stack.defer(() => Promise.reject(e2));
    stack.use({
      [Symbol.dispose]() {
        throw e3;
      },
    });
    const error = await stack.disposeAsync().then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SuppressedError);
    assert.equal(error.error, e1);
    const inner = error.suppressed;
    assert.ok(inner instanceof SuppressedError);
    assert.equal(inner.error, e2);
    assert.equal(inner.suppressed, e3);
    assert.equal(error.message, "An error was suppressed during disposal");
  });

  it("builds the same chain as TypeScript's own `await using` for the same failures", async () => {
    const e1 = new Error("1");
    const e2 = new Error("2");
    const ours = new AsyncExitStack();
    ours.defer(() => {
      throw e1;
    });
    ours.defer(() => {
      throw e2;
    });
    const fromStack = await ours.disposeAsync().catch((e: unknown) => e);
    const fromUsing = await (async () => {
      await using _a = {
        [Symbol.asyncDispose]: async () => {
          throw e1;
        },
      };
      await using _b = {
        [Symbol.asyncDispose]: async () => {
          throw e2;
        },
      };
    })().catch((e: unknown) => e);
    const shape = (e: unknown): unknown =>
      typeof e === "object" && e !== null && "suppressed" in e
        ? { error: shape((e as SuppressedError).error), suppressed: shape(e.suppressed) }
        : e;
    assert.deepEqual(shape(fromStack), shape(fromUsing));
  });

  it("treats falsy non-error throws (undefined, 0) as failures too", async () => {
    const stack = new AsyncExitStack();
    stack.defer(() => {
      throw 0;
    });
    stack.defer(() => Promise.reject(undefined));
    const error = await stack.disposeAsync().then(
      () => "resolved",
      (e: unknown) => e,
    );
    assert.ok(error instanceof SuppressedError);
    assert.equal(error.error, 0);
    assert.equal(error.suppressed, undefined);
  });

  it("wraps a block's error when disposal fails too (under await using)", async () => {
    const block = new Error("block");
    const cleanup = new Error("cleanup");
    const error = await (async () => {
      await using stack = new AsyncExitStack();
      stack.defer(() => {
        throw cleanup;
      });
      throw block;
    })().catch((e: unknown) => e);
    assert.equal((error as SuppressedError).error, cleanup);
    assert.equal((error as SuppressedError).suppressed, block);
  });

  it("prefers Symbol.asyncDispose over Symbol.dispose, and calls it with the value as this", async () => {
    const calls: string[] = [];
    const value = {
      async [Symbol.asyncDispose]() {
        calls.push(this === value ? "async with this" : "async without this");
      },
      [Symbol.dispose]() {
        calls.push("sync");
      },
    };
    const stack = new AsyncExitStack();
    stack.use(value);
    await stack.disposeAsync();
    assert.deepEqual(calls, ["async with this"]);
  });

  it("falls back to Symbol.dispose when Symbol.asyncDispose is null, and ignores its result", async () => {
    let thenCalled = false;
    const stack = new AsyncExitStack();
    stack.use({
      [Symbol.asyncDispose]: null,
      [Symbol.dispose]() {
        // A sync disposer's result is not awaited, even when it is a thenable.
        return {
          then() {
            thenCalled = true;
          },
        };
      },
    } as unknown as Disposable);
    await stack.disposeAsync();
    assert.equal(thenCalled, false);
  });

  it("calls defer() and adopt() callbacks with this undefined", async () => {
    const thisValues: unknown[] = [];
    const stack = new AsyncExitStack();
    stack.defer(function (this: unknown) {
      thisValues.push(this);
    });
    stack.adopt(1, function (this: unknown, value) {
      thisValues.push(this, value);
    });
    await stack.disposeAsync();
    assert.deepEqual(thisValues, [undefined, 1, undefined]);
  });

  it("accepts null and undefined in use() and ignores them (still awaiting once)", async () => {
    const stack = new AsyncExitStack();
    assert.equal(stack.use(null), null);
    assert.equal(stack.use(undefined), undefined);
    let later = false;
    void Promise.resolve().then(() => {
      later = true;
    });
    await stack.disposeAsync();
    assert.equal(later, true);
  });

  it("rejects non-disposable values in use() with a TypeError naming what was received", () => {
    const stack = new AsyncExitStack();
    assert.throws(() => stack.use(5 as unknown as Disposable), {
      name: "TypeError",
      message: /got 5 \(number\)/,
    });
    assert.throws(() => stack.use({} as Disposable), {
      name: "TypeError",
      message: /neither Symbol\.asyncDispose nor Symbol\.dispose/,
    });
    assert.throws(() => stack.use({ [Symbol.asyncDispose]: 1 } as unknown as AsyncDisposable), {
      name: "TypeError",
      message: /not a function, got 1 \(number\)/,
    });
    assert.throws(() => stack.defer("x" as unknown as () => void), TypeError);
    assert.throws(() => stack.adopt(1, null as unknown as () => void), TypeError);
    assert.equal(stack.disposed, false);
  });

  it("accepts a function object with Symbol.asyncDispose", async () => {
    let disposed = false;
    const fn = Object.assign(() => {}, {
      [Symbol.asyncDispose]: async () => {
        disposed = true;
      },
    });
    const stack = new AsyncExitStack();
    stack.use(fn);
    await stack.disposeAsync();
    assert.equal(disposed, true);
  });

  it("throws ReferenceError for use, adopt, defer and move once disposed", async () => {
    const stack = new AsyncExitStack();
    await stack.disposeAsync();
    assert.throws(() => stack.use(null), { name: "ReferenceError", message: /already disposed/ });
    assert.throws(() => stack.adopt(1, () => {}), ReferenceError);
    assert.throws(() => stack.defer(() => {}), ReferenceError);
    assert.throws(() => stack.move(), ReferenceError);
    // The disposed check comes first, as in the proposal.
    assert.throws(() => stack.use(5 as unknown as Disposable), ReferenceError);
  });

  it("disposes once: a second call (even during the first) resolves at once", async () => {
    let count = 0;
    let release!: () => void;
    const stack = new AsyncExitStack();
    stack.defer(async () => {
      count++;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const first = stack.disposeAsync();
    await stack.disposeAsync(); // resolves although the first is still running
    assert.equal(count, 1);
    release();
    await first;
    await stack[Symbol.asyncDispose]();
    assert.equal(count, 1);
  });

  it("move() hands every entry to a new stack and leaves this one disposed and empty", async () => {
    const log: string[] = [];
    const stack = new AsyncExitStack();
    stack.use(asyncDisposable(log, "a"));
    stack.use(asyncDisposable(log, "b"));
    const moved = stack.move();
    assert.ok(moved instanceof AsyncExitStack);
    assert.equal(stack.disposed, true);
    assert.equal(moved.disposed, false);
    await stack.disposeAsync();
    assert.deepEqual(log, []);
    moved.use(asyncDisposable(log, "c"));
    await moved.disposeAsync();
    assert.deepEqual(log, ["c", "b", "a"]);
  });

  it("move() keeps resources open when setup succeeds, closes them when it fails", async () => {
    const log: string[] = [];
    async function openAll(fail: boolean): Promise<AsyncExitStack> {
      await using stack = new AsyncExitStack();
      stack.use(asyncDisposable(log, "a"));
      if (fail) throw new Error("setup failed");
      stack.use(asyncDisposable(log, "b"));
      return stack.move();
    }
    const owned = await openAll(false);
    assert.deepEqual(log, []);
    await owned.disposeAsync();
    assert.deepEqual(log, ["b", "a"]);
    log.length = 0;
    await assert.rejects(openAll(true), { message: "setup failed" });
    assert.deepEqual(log, ["a"]);
  });

  it("has [Symbol.asyncDispose] === disposeAsync and the AsyncExitStack toStringTag", () => {
    const stack = new AsyncExitStack();
    assert.equal(stack[Symbol.asyncDispose], stack.disposeAsync);
    assert.equal(Object.prototype.toString.call(stack), "[object AsyncExitStack]");
    assert.equal(String(stack), "<AsyncExitStack entries=0>");
  });

  it("rejects disposeAsync called on something that is not a stack", async () => {
    const { disposeAsync } = AsyncExitStack.prototype;
    await assert.rejects(disposeAsync.call({} as AsyncExitStack), TypeError);
  });

  it("refuses entries registered by a disposer: the stack is disposed by then", async () => {
    const stack = new AsyncExitStack();
    let thrown: unknown;
    stack.defer(() => {
      try {
        stack.defer(() => {});
      } catch (error) {
        thrown = error;
      }
    });
    await stack.disposeAsync();
    assert.ok(thrown instanceof ReferenceError);
  });

  it("disposes a nested stack as one entry", async () => {
    const log: string[] = [];
    const inner = new AsyncExitStack();
    inner.use(asyncDisposable(log, "inner-a"));
    inner.use(asyncDisposable(log, "inner-b"));
    const outer = new AsyncExitStack();
    outer.use(asyncDisposable(log, "outer-a"));
    outer.use(inner);
    outer.use(asyncDisposable(log, "outer-b"));
    await outer.disposeAsync();
    assert.deepEqual(log, ["outer-b", "inner-b", "inner-a", "outer-a"]);
  });

  it("disposes 10,000 entries in order without growing the call stack", async () => {
    const order: number[] = [];
    const stack = new AsyncExitStack();
    for (let i = 0; i < 10_000; i++) stack.defer(() => void order.push(i));
    await stack.disposeAsync();
    assert.equal(order.length, 10_000);
    assert.equal(order[0], 9_999);
    assert.equal(order[9_999], 0);
  });

  describe("with a native AsyncDisposableStack (faked where the runtime has none)", () => {
    // A minimal stand-in with the proposal's surface, used only to check interop.
    class FakeNativeStack implements AsyncDisposable {
      readonly #callbacks: (() => unknown)[] = [];
      disposed = false;
      use<T extends AsyncDisposable | null | undefined>(value: T): T {
        if (value !== null && value !== undefined) {
          this.#callbacks.push(() => value[Symbol.asyncDispose]());
        }
        return value;
      }
      defer(fn: () => unknown): void {
        this.#callbacks.push(fn);
      }
      async disposeAsync(): Promise<void> {
        this.disposed = true;
        for (const fn of this.#callbacks.reverse()) await fn();
      }
      [Symbol.asyncDispose](): Promise<void> {
        return this.disposeAsync();
      }
    }
    type NativeCtor = new () => FakeNativeStack;
    const g = globalThis as unknown as { AsyncDisposableStack?: NativeCtor };
    const Native: NativeCtor = g.AsyncDisposableStack ?? FakeNativeStack;

    it("use() accepts a native stack and disposes it in order", async () => {
      const log: string[] = [];
      const native = new Native();
      native.defer(() => log.push("native"));
      const stack = new AsyncExitStack();
      stack.defer(() => log.push("first"));
      stack.use(native);
      stack.defer(() => log.push("last"));
      await stack.disposeAsync();
      assert.deepEqual(log, ["last", "native", "first"]);
      assert.equal(native.disposed, true);
    });

    it("a native stack accepts an AsyncExitStack", async () => {
      const log: string[] = [];
      const ours = new AsyncExitStack();
      ours.defer(() => log.push("ours"));
      const native = new Native();
      native.use(ours);
      await native.disposeAsync();
      assert.deepEqual(log, ["ours"]);
      assert.equal(ours.disposed, true);
    });
  });
});
