/** localQueue: the same contract as distributedQueue, in one process; and the options' checks (issue 15). */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import * as bullmqEntry from "aiokit/bullmq";
import { defineTask, distributedQueue, localQueue, type Outcome } from "aiokit/bullmq";
import { evenOnly, flaky, square } from "../fixtures/bullmq-tasks.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function collect<O>(outcomes: AsyncIterable<Outcome<O>>): Promise<Outcome<O>[]> {
  const all: Outcome<O>[] = [];
  for await (const o of outcomes) all.push(o);
  return all;
}

describe("aiokit/bullmq exports", () => {
  it("lists exactly its public names", () => {
    assert.deepEqual(Object.keys(bullmqEntry).sort(), [
      "RedisUnavailableError",
      "RedisVersionError",
      "cancelRun",
      "defineTask",
      "distributedQueue",
      "listRuns",
      "localQueue",
      "runWorker",
    ]);
  });

  it("fails to import without bullmq with an error that says what to install", async () => {
    // A resolve hook that hides bullmq, as if it were not installed.
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { register } from "node:module";
      register("data:text/javascript," + encodeURIComponent(
        "export async function resolve(s, c, next) { if (s === 'bullmq') { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }"
      ));`)}`;
    const run = promisify(execFile);
    await assert.rejects(
      run(
        process.execPath,
        ["--import", hook, "--input-type=module", "-e", 'await import("aiokit/bullmq")'],
        {
          cwd: new URL("../../", import.meta.url),
        },
      ),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /needs its optional peer dependencies bullmq and ioredis/);
        assert.match(error.stderr, /npm install bullmq ioredis/);
        return true;
      },
    );
  });
});

describe("localQueue", () => {
  it("maps in input order over sync and async iterables", async () => {
    const queue = localQueue();
    assert.deepEqual(
      await queue.map(range(100), square, { concurrency: 7 }),
      range(100).map((n) => n * n),
    );
    async function* slow() {
      for (const n of range(20)) {
        await tick();
        yield n;
      }
    }
    assert.deepEqual(
      await queue.map(slow(), square),
      range(20).map((n) => n * n),
    );
  });

  it("yields finished outcomes while a slow async input waits for the next one", async () => {
    let seeBoth = (): void => {};
    const both = new Promise<"seen">((resolve) => {
      seeBoth = () => resolve("seen");
    });
    let released: string | undefined;
    const inputs = (async function* () {
      yield 1;
      yield 2;
      let timer: ReturnType<typeof setTimeout> | undefined;
      released = await Promise.race([
        both,
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("timed out"), 15_000);
        }),
      ]);
      clearTimeout(timer);
      yield 3;
    })();
    let seen = 0;
    for await (const _ of localQueue().run(inputs, square)) if (++seen === 2) seeBoth();
    assert.equal(released, "seen", "the first outcomes waited for the slow input");
    assert.equal(seen, 3);
  });

  it("yields each outcome once with its index, id and attempts", async () => {
    const outcomes = await collect(
      localQueue().run(range(10), evenOnly, { id: (n) => (n + 160).toString(16) }),
    );
    outcomes.sort((a, b) => a.index - b.index);
    assert.deepEqual(
      outcomes.map((o) => [o.index, o.id, o.status, o.attempts]),
      range(10).map((n) => [n, (n + 160).toString(16), n % 2 ? "rejected" : "fulfilled", 1]),
    );
    const retried = await collect(
      localQueue().run([1], flaky, { retry: { retries: 1, minDelay: 1 } }),
    );
    assert.deepEqual(retried, [{ index: 0, id: "0", status: "fulfilled", value: 3, attempts: 2 }]);
  });

  it("never runs more than `concurrency` at once, nor more than `perKey` of a key", async () => {
    let active = 0;
    let most = 0;
    const perKey = new Map<string, number>();
    let mostPerKey = 0;
    const hold = defineTask("hold", async (n: number) => {
      const key = String(n % 3);
      active++;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      most = Math.max(most, active);
      mostPerKey = Math.max(mostPerKey, perKey.get(key) ?? 0);
      for (let i = 0; i < 5; i++) await tick();
      active--;
      perKey.set(key, (perKey.get(key) ?? 0) - 1);
      return n;
    });
    await localQueue().map(range(60), hold, { concurrency: 4 });
    assert.equal(most, 4);
    most = 0;
    mostPerKey = 0;
    await localQueue().map(range(60), hold, {
      concurrency: 5,
      key: (n) => String(n % 3),
      perKey: 1,
    });
    assert.equal(mostPerKey, 1);
    assert.equal(most, 3);
  });

  it("cancels the run on abort: running tasks see their signal abort, and it rejects with the reason", async () => {
    let started = 0;
    let aborted = 0;
    const controller = new AbortController();
    const wait = defineTask("wait", (_: number, { signal }) => {
      started++;
      if (started === 3) controller.abort(new Error("enough"));
      return new Promise<never>((_, reject) => {
        const stop = () => {
          aborted++;
          reject(signal.reason);
        };
        if (signal.aborted) stop();
        else signal.addEventListener("abort", stop);
      });
    });
    await assert.rejects(
      localQueue().map(range(100), wait, { concurrency: 3, signal: controller.signal }),
      {
        message: "enough",
      },
    );
    assert.equal(started, 3);
    assert.equal(aborted, 3);
  });

  it("rejects map with the first error and cancels the rest; settle collects", async () => {
    await assert.rejects(localQueue().map([2, 4, 5], evenOnly), { name: "RangeError" });
    const settled = await localQueue().map([2, 5], evenOnly, { settle: true });
    assert.deepEqual(settled[0], { status: "fulfilled", value: 2 });
    assert.equal(settled[1]?.status, "rejected");
  });

  it("rejects an id used twice while the first is running", async () => {
    const gate = defineTask("gate", async (n: number) => {
      for (let i = 0; i < 3; i++) await tick();
      return n;
    });
    await assert.rejects(localQueue().map([1, 2], gate, { id: () => "ab", concurrency: 2 }), {
      name: "TypeError",
      message: "Expected `id` to be unique in the run, got ab twice",
    });
  });
});

describe("run options are checked before anything runs", () => {
  const bad: [string, object, RegExp][] = [
    ["concurrency 0", { concurrency: 0 }, /`concurrency`/],
    ["rate without interval", { rate: { limit: 5 } }, /`rate.interval`/],
    [
      "retry with retryIf",
      { retry: { retryIf: () => true } },
      /`retry.retryIf` cannot cross machines/,
    ],
    ["key without perKey", { key: () => "a" }, /`key` and `perKey` together/],
    [
      "chunk with rate",
      { chunk: 10, rate: { limit: 1, interval: 1 } },
      /`chunk` to be 1 with `rate` or `key`/,
    ],
    ["chunk 0", { chunk: 0 }, /`chunk`/],
    ["an id that is not hex", { id: () => "a:b" }, /hex digits for input 0, got "a:b"/],
  ];
  for (const [what, options, message] of bad) {
    it(`rejects ${what}, locally and distributed`, async () => {
      await assert.rejects(localQueue().map([1], square, options), { name: "TypeError", message });
      // Checked before any connection is made: no Redis listens here.
      const remote = distributedQueue("checks", { connection: "redis://127.0.0.1:1" });
      if (what === "an id that is not hex") return; // checked per input, once connected
      await assert.rejects(remote.map([1], square, options), { name: "TypeError", message });
    });
  }

  it("rejects bad names and connections at once", () => {
    assert.throws(() => defineTask("a:b", () => 1), /the task name to be 1 to 200 letters/);
    assert.throws(() => distributedQueue("q", { connection: "http://x" }), /redis:\/\/ URL/);
    assert.throws(() => distributedQueue("a b", { connection: "redis://x" }), /the queue name/);
  });
});
