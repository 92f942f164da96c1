/**
 * aiokit's disposal next to the runtime's own (issue 17): where the runtime has
 * `SuppressedError`, `AsyncDisposableStack` and `await using` natively (Node 24,
 * Bun, Deno, Chromium), they and aiokit's `AsyncExitStack` and errors are one
 * world. Elsewhere (Node 20, 22) these tests skip, and say why.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AsyncExitStack, SuppressedError } from "../../src/index.js";

interface NativeStack extends AsyncDisposable {
  use<T>(value: T): T;
  defer(fn: () => unknown): void;
  disposeAsync(): Promise<void>;
}
const g = globalThis as {
  SuppressedError?: unknown;
  AsyncDisposableStack?: new () => NativeStack;
};
const NativeStack = g.AsyncDisposableStack;

/** `await using` as the runtime parses it (not as TypeScript compiles it), or undefined. */
function nativeUsing(): ((resource: unknown) => Promise<void>) | undefined {
  try {
    const AsyncFunction = (async () => {}).constructor as new (
      ...args: string[]
    ) => (resource: unknown) => Promise<void>;
    return new AsyncFunction("resource", '{ await using r = resource; throw new Error("body"); }');
  } catch {
    return undefined;
  }
}
const using = nativeUsing();

const failing = (message: string) => ({
  [Symbol.asyncDispose]: async () => {
    throw new Error(message);
  },
});

describe("native explicit resource management", () => {
  it("a native SuppressedError from `await using` is aiokit's SuppressedError", async (t) => {
    if (using === undefined || typeof g.SuppressedError !== "function")
      return t.skip("no native `await using` here");
    await assert.rejects(using(failing("dispose")), (error: unknown) => {
      assert.ok(error instanceof SuppressedError);
      assert.equal((error.error as Error).message, "dispose");
      assert.equal((error.suppressed as Error).message, "body");
      return true;
    });
  });

  it("`await using` disposes an AsyncExitStack like a native stack", async (t) => {
    if (using === undefined) return t.skip("no native `await using` here");
    const order: string[] = [];
    const stack = new AsyncExitStack();
    stack.defer(() => void order.push("first"));
    stack.defer(() => void order.push("second"));
    await assert.rejects(using(stack), /body/);
    assert.deepEqual(order, ["second", "first"]);
  });

  it("AsyncExitStack and AsyncDisposableStack use each other, in one LIFO order, one error chain", async (t) => {
    if (NativeStack === undefined) return t.skip("no native AsyncDisposableStack here");
    const order: string[] = [];
    const outer = new NativeStack();
    const inner = new AsyncExitStack();
    outer.defer(() => void order.push("native 1"));
    outer.use(inner);
    inner.defer(() => {
      order.push("aiokit 1");
      throw new Error("aiokit failed");
    });
    const nested = new NativeStack();
    inner.use(nested);
    nested.defer(() => {
      order.push("native 2");
      throw new Error("native failed");
    });
    await assert.rejects(outer.disposeAsync(), (error: unknown) => {
      // native 2 failed first, then aiokit 1: the later one wraps the earlier.
      assert.ok(error instanceof SuppressedError);
      assert.equal((error.error as Error).message, "aiokit failed");
      assert.equal((error.suppressed as Error).message, "native failed");
      return true;
    });
    assert.deepEqual(order, ["native 2", "aiokit 1", "native 1"]);
  });

  it("the runtimes that have them natively really run these tests", () => {
    const versions = (globalThis as { process?: { versions?: Record<string, string> } }).process
      ?.versions;
    const node = Number(versions?.node?.split(".")[0] ?? 0);
    const expectNative = versions?.bun !== undefined || versions?.deno !== undefined || node >= 24;
    if (!expectNative) return;
    assert.equal(typeof g.SuppressedError, "function");
    assert.equal(typeof NativeStack, "function");
    assert.notEqual(using, undefined, "await using should parse natively here");
  });
});
