import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SuppressedError } from "../../src/index.js";

const hasNative =
  typeof (globalThis as { SuppressedError?: unknown }).SuppressedError === "function";

describe("SuppressedError", () => {
  it("is the runtime's own when there is one", () => {
    if (hasNative) {
      assert.equal(SuppressedError, (globalThis as { SuppressedError?: unknown }).SuppressedError);
    } else {
      assert.equal(typeof SuppressedError, "function");
    }
  });

  it("takes (error, suppressed, message) and sets them as the proposal says", () => {
    const error = new Error("later");
    const suppressed = new Error("earlier");
    const e = new SuppressedError(error, suppressed, "both failed");
    assert.ok(e instanceof SuppressedError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "SuppressedError");
    assert.equal(e.message, "both failed");
    assert.equal(e.error, error);
    assert.equal(e.suppressed, suppressed);
    assert.equal(Object.prototype.toString.call(e), "[object Error]");
    assert.match(String(e.stack), /SuppressedError: both failed/);
  });

  it("makes error, suppressed and message non-enumerable own data properties", () => {
    const e = new SuppressedError(1, 2, "m");
    for (const key of ["error", "suppressed", "message"]) {
      const d = Object.getOwnPropertyDescriptor(e, key);
      assert.ok(d !== undefined, key);
      assert.equal(d.enumerable, false, key);
      assert.equal(d.writable, true, key);
      assert.equal(d.configurable, true, key);
    }
    assert.deepEqual(Object.keys(e), []);
  });

  it("has no own message when none is given, and converts one to a string", () => {
    const e = new SuppressedError(1, 2);
    assert.equal(Object.hasOwn(e, "message"), false);
    assert.equal(e.message, "");
    assert.equal(new SuppressedError(1, 2, 42 as unknown as string).message, "42");
  });

  it("keeps any values, undefined included, as error and suppressed", () => {
    const e = new SuppressedError(undefined, undefined);
    assert.equal(Object.hasOwn(e, "error"), true);
    assert.equal(Object.hasOwn(e, "suppressed"), true);
    assert.equal(e.error, undefined);
  });

  it("can be called without new", () => {
    const e = SuppressedError("a", "b", "c");
    assert.ok(e instanceof SuppressedError);
    assert.equal(e.error, "a");
    assert.equal(e.suppressed, "b");
    assert.equal(e.message, "c");
  });

  it("has the proposal's shape: length 3, name, Error as prototype, prototype properties", () => {
    assert.equal(SuppressedError.length, 3);
    assert.equal(SuppressedError.name, "SuppressedError");
    assert.equal(Object.getPrototypeOf(SuppressedError), Error);
    const proto = SuppressedError.prototype;
    assert.equal(Object.getPrototypeOf(proto), Error.prototype);
    assert.equal(proto.constructor, SuppressedError);
    assert.equal(proto.name, "SuppressedError");
    assert.equal(proto.message, "");
    assert.equal(Object.hasOwn(proto, "error"), false);
    assert.equal(Object.hasOwn(proto, "suppressed"), false);
    const d = Object.getOwnPropertyDescriptor(SuppressedError, "prototype");
    assert.equal(d?.writable, false);
    assert.equal(d?.enumerable, false);
    assert.equal(d?.configurable, false);
  });

  it("can be subclassed", () => {
    class MyError extends SuppressedError {
      readonly extra = "x";
    }
    const e = new MyError(1, 2, "sub");
    assert.ok(e instanceof MyError);
    assert.ok(e instanceof SuppressedError);
    assert.equal(e.extra, "x");
    assert.equal(e.error, 1);
    assert.equal(e.message, "sub");
  });

  it("uses the runtime's SuppressedError when it appears (fresh module instance)", async () => {
    if (hasNative) return;
    class FakeNative extends Error {}
    const g = globalThis as { SuppressedError?: unknown };
    g.SuppressedError = FakeNative;
    try {
      const fresh = (await import(
        `../../src/resource/suppressed-error.js?native=${Date.now()}`
      )) as { SuppressedError: unknown };
      assert.equal(fresh.SuppressedError, FakeNative);
    } finally {
      delete g.SuppressedError;
    }
  });
});
