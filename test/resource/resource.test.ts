import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AsyncExitStack, type ResourceHandle, resource, SuppressedError } from "../../src/index.js";

interface Conn {
  readonly url: string;
  open: boolean;
}

function connections() {
  const log: string[] = [];
  const openConn = resource(
    async (url: string, port = 80): Promise<Conn> => {
      await Promise.resolve();
      log.push(`open ${url}:${port}`);
      return { url, open: true };
    },
    async (conn) => {
      await Promise.resolve();
      conn.open = false;
      log.push(`close ${conn.url}`);
    },
  );
  return { log, openConn };
}

describe("resource(acquire, release)", () => {
  it("acquires with the factory's arguments and releases at the end of await using", async () => {
    const { log, openConn } = connections();
    let seen: Conn | undefined;
    {
      await using conn = await openConn("db", 5432);
      seen = conn.value;
      assert.equal(conn.value.open, true);
      assert.equal(conn.disposed, false);
      log.push("work");
    }
    assert.deepEqual(log, ["open db:5432", "work", "close db"]);
    assert.equal(seen?.open, false);
  });

  it("releases when the block throws, and the block's error propagates", async () => {
    const { log, openConn } = connections();
    await assert.rejects(
      (async () => {
        await using _conn = await openConn("db");
        throw new Error("query failed");
      })(),
      { message: "query failed" },
    );
    assert.deepEqual(log, ["open db:80", "close db"]);
  });

  it("does not release when acquiring fails", async () => {
    let released = false;
    const failing = resource(
      async () => {
        throw new Error("refused");
      },
      () => {
        released = true;
      },
    );
    await assert.rejects(failing(), { message: "refused" });
    assert.equal(released, false);
  });

  it("rejects disposal with the release's error; with a failing block too, as a SuppressedError", async () => {
    const failingRelease = resource(
      () => 1,
      () => {
        throw new Error("release failed");
      },
    );
    const handle = await failingRelease();
    await assert.rejects(handle.disposeAsync(), { message: "release failed" });
    const error = await (async () => {
      await using _h = await failingRelease();
      throw new Error("block failed");
    })().catch((e: unknown) => e);
    assert.ok(error instanceof SuppressedError);
    assert.equal((error.error as Error).message, "release failed");
    assert.equal((error.suppressed as Error).message, "block failed");
  });

  it("releases once: later calls wait for the first and resolve", async () => {
    let releases = 0;
    let finish!: () => void;
    const r = resource(
      () => "v",
      () =>
        new Promise<void>((resolve) => {
          releases++;
          finish = resolve;
        }),
    );
    const handle = await r();
    const first = handle.disposeAsync();
    let secondDone = false;
    const second = handle[Symbol.asyncDispose]().then(() => {
      secondDone = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(secondDone, false, "the second call waits for the first");
    finish();
    await first;
    await second;
    assert.equal(releases, 1);
    assert.equal(handle.disposed, true);
    assert.equal(handle.value, "v", "the value stays readable");
  });

  it("lets later calls resolve even when the first release failed", async () => {
    const r = resource(
      () => 1,
      () => Promise.reject(new Error("nope")),
    );
    const handle = await r();
    await assert.rejects(handle.disposeAsync(), { message: "nope" });
    await handle.disposeAsync();
  });

  it("accepts a synchronous acquire and release", async () => {
    const log: string[] = [];
    const r = resource(
      (n: number) => n * 2,
      (v) => void log.push(`release ${v}`),
    );
    {
      await using h = await r(21);
      assert.equal(h.value, 42);
    }
    assert.deepEqual(log, ["release 42"]);
  });

  it("makes handles an AsyncExitStack can hold", async () => {
    const { log, openConn } = connections();
    {
      await using stack = new AsyncExitStack();
      stack.use(await openConn("a"));
      stack.use(await openConn("b"));
    }
    assert.deepEqual(log, ["open a:80", "open b:80", "close b", "close a"]);
  });

  it("throws a TypeError at once for a non-function acquire or release", () => {
    assert.throws(() => resource(5 as unknown as () => number, () => {}), {
      name: "TypeError",
      message: /`acquire`.*5 \(number\)/,
    });
    assert.throws(() => resource(() => 1, "x" as unknown as () => void), {
      name: "TypeError",
      message: /`release`/,
    });
  });

  it("types the handle from acquire's resolved value", async () => {
    const r = resource(
      async (s: string) => s.length,
      () => {},
    );
    const handle: ResourceHandle<number> = await r("abc");
    assert.equal(handle.value, 3);
    await handle.disposeAsync();
  });
});

describe("resource(async generator)", () => {
  it("runs the code before yield on acquire and the code after it on dispose", async () => {
    const log: string[] = [];
    const tempDir = resource(async function* (prefix: string) {
      log.push(`make ${prefix}`);
      yield `${prefix}123`;
      log.push(`remove ${prefix}`);
    });
    {
      await using dir = await tempDir("/tmp/x");
      assert.equal(dir.value, "/tmp/x123");
      log.push("use");
    }
    assert.deepEqual(log, ["make /tmp/x", "use", "remove /tmp/x"]);
  });

  it("runs finally when the block throws (the generator is resumed, not thrown into)", async () => {
    const log: string[] = [];
    const r = resource(async function* () {
      try {
        yield 1;
        log.push("after yield");
      } catch {
        log.push("catch"); // never: await using cannot tell the generator about the error
      } finally {
        log.push("finally");
      }
    });
    await assert.rejects(
      (async () => {
        await using _h = await r();
        throw new Error("block");
      })(),
      { message: "block" },
    );
    assert.deepEqual(log, ["after yield", "finally"]);
  });

  it("fails the acquisition when the generator throws before yielding", async () => {
    const r = resource(async function* () {
      throw new Error("cannot open");
      // biome-ignore lint/correctness/noUnreachable: the yield makes it a generator
      yield 1;
    });
    await assert.rejects(r(), { message: "cannot open" });
  });

  it("fails the acquisition when the generator returns without yielding", async () => {
    // biome-ignore lint/correctness/useYield: the point of the test
    const r = resource(async function* () {
      return;
    });
    await assert.rejects(r(), { message: /returned without yielding a value/ });
  });

  it("rejects disposal with the cleanup's error", async () => {
    const r = resource(async function* () {
      yield 1;
      throw new Error("cleanup failed");
    });
    const h = await r();
    await assert.rejects(h.disposeAsync(), { message: "cleanup failed" });
  });

  it("closes a generator that yields twice (its finally runs) and rejects disposal", async () => {
    const log: string[] = [];
    const r = resource(async function* () {
      try {
        yield 1;
        yield 2;
      } finally {
        log.push("finally");
      }
    });
    const h = await r();
    await assert.rejects(h.disposeAsync(), { message: /yielded a second value/ });
    assert.deepEqual(log, ["finally"]);
  });

  it("reports both errors when closing a generator that yielded twice fails too", async () => {
    const r = resource(async function* () {
      try {
        yield 1;
        yield 2;
      } finally {
        // biome-ignore lint/correctness/noUnsafeFinally: the point of the test
        throw new Error("finally failed");
      }
    });
    const h = await r();
    const error = await h.disposeAsync().catch((e: unknown) => e);
    assert.ok(error instanceof SuppressedError);
    assert.equal((error.error as Error).message, "finally failed");
    assert.match((error.suppressed as Error).message, /yielded a second value/);
  });

  it("rejects (not throws) when the function does not return an async generator", async () => {
    const r = resource((() => 5) as unknown as () => AsyncGenerator<number>);
    await assert.rejects(r(), { name: "TypeError", message: /async generator.*5 \(number\)/ });
  });

  it("gets a signal through its arguments and can stop acquiring with it", async () => {
    const r = resource(async function* (signal: AbortSignal) {
      await new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      yield 1;
    });
    const controller = new AbortController();
    const acquiring = r(controller.signal);
    controller.abort(new Error("stop"));
    await assert.rejects(acquiring, { message: "stop" });
  });
});
