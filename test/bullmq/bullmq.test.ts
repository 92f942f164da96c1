/** aiokit/bullmq against a real redis-server and real worker processes (issue 15). */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { distributedQueue, localQueue, type Outcome } from "aiokit/bullmq";
import { startWorker, type WorkerProcess } from "../fixtures/bullmq-harness.js";
import { evenOnly, flaky, square } from "../fixtures/bullmq-tasks.js";
import { type RedisServer, startRedis } from "../fixtures/redis-server.js";

let redis: RedisServer;
let workers: WorkerProcess[] = [];
const NAME = "test";

before(async () => {
  redis = await startRedis();
  workers = [0, 1, 2].map(() => startWorker(redis.url, NAME));
});

after(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  await redis.stop();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("distributedQueue", () => {
  it("maps 10,000 inputs over 3 workers to the local result", async () => {
    const inputs = range(10_000);
    const local = await localQueue().map(inputs, square, { concurrency: 8 });
    const queue = distributedQueue(NAME, { connection: redis.url });
    assert.deepEqual(await queue.map(inputs, square, { concurrency: 30 }), local);
    assert.deepEqual(await queue.map(inputs, square, { chunk: 50 }), local);
  });

  it("yields each outcome once, with errors that keep name, message and code", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const seen: Outcome<number>[] = [];
    for await (const o of queue.run(range(20), evenOnly)) seen.push(o);
    seen.sort((a, b) => a.index - b.index);
    assert.deepEqual(
      seen.map((o) => o.index),
      range(20),
    );
    const odd = seen[3] as Outcome<number> & { status: "rejected" };
    assert.equal(odd.status, "rejected");
    assert.equal((odd.reason as Error).name, "RangeError");
    assert.equal((odd.reason as Error).message, "odd: 3");
    assert.equal((odd.reason as { code?: string }).code, "ODD");
    assert.deepEqual(seen[4], { index: 4, id: "4", status: "fulfilled", value: 4, attempts: 1 });
  });

  it("retries with aiokit's retry options and reports the attempts", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const retry = { retries: 2, minDelay: 1, jitter: false };
    const local = [];
    for await (const o of localQueue().run([1, 2], flaky, { retry })) local.push(o);
    const remote = [];
    for await (const o of queue.run([1, 2], flaky, { retry })) remote.push(o);
    const byIndex = (a: Outcome<number>, b: Outcome<number>) => a.index - b.index;
    assert.deepEqual(remote.sort(byIndex), local.sort(byIndex));
    assert.deepEqual(remote[0], { index: 0, id: "0", status: "fulfilled", value: 3, attempts: 2 });
  });

  it("rejects map with the first error and collects them with settle", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    await assert.rejects(queue.map([2, 4, 5, 6], evenOnly), {
      name: "RangeError",
      message: "odd: 5",
    });
    const settled = await queue.map([2, 5], evenOnly, { settle: true });
    assert.equal(settled[0]?.status, "fulfilled");
    assert.equal(settled[1]?.status, "rejected");
  });

  it("yields finished outcomes while a slow async input waits for the next one", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    // The input's third item comes only once the first two outcomes were
    // yielded (or after 15 s, which fails the test): the producer must keep
    // reading results while it waits for its input.
    const seen: number[] = [];
    let seeBoth = (): void => {};
    const both = new Promise<"seen">((resolve) => {
      seeBoth = () => resolve("seen");
    });
    let released: "seen" | "timed out" | undefined;
    const inputs = (async function* () {
      yield 1;
      yield 2;
      let timer: ReturnType<typeof setTimeout> | undefined;
      released = await Promise.race([
        both,
        new Promise<"timed out">((resolve) => {
          timer = setTimeout(() => resolve("timed out"), 15_000);
        }),
      ]);
      clearTimeout(timer);
      yield 3;
    })();
    for await (const o of queue.run(inputs, square)) {
      seen.push(o.status === "fulfilled" ? o.value : Number.NaN);
      if (seen.length === 2) seeBoth();
    }
    assert.equal(released, "seen", "the first outcomes waited for the slow input");
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      [1, 4, 9],
    );
  });

  it("rejects with the input's own error, and on a duplicate id", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const broken = (async function* () {
      yield 1;
      yield 2;
      throw new Error("the input broke");
    })();
    await assert.rejects(queue.map(broken, square), { message: "the input broke" });
    await assert.rejects(queue.map([1, 2], square, { id: () => "ab" }), {
      name: "TypeError",
      message: "Expected `id` to be unique in the run, got ab twice",
    });
  });

  it("rejects at once on abort while the input is stuck, and asks the input to close", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const controller = new AbortController();
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let closed = false;
    const stuck = (async function* () {
      try {
        yield 1;
        await gate; // never, until the test is over
        yield 2;
      } finally {
        closed = true;
      }
    })();
    const reason = new Error("stop");
    const run = (async () => {
      for await (const _ of queue.run(stuck, square, { signal: controller.signal })) {
        controller.abort(reason);
      }
    })();
    await assert.rejects(run, reason);
    assert.equal(closed, false, "the input's next() is still pending");
    release();
    await gate;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, true, "the input was closed once its next() settled");
  });

  it("runs examples/distributed.js on Redis with the same output as locally", async () => {
    const file = fileURLToPath(new URL("../../examples/distributed.js", import.meta.url));
    const run = promisify(execFile);
    const local = await run(process.execPath, [file], { timeout: 60_000 });
    const remote = await run(process.execPath, [file], {
      timeout: 60_000,
      env: { ...process.env, REDIS_URL: redis.url },
    });
    assert.match(local.stdout, /local: \[ 2, 2, 5, 0 \]/);
    assert.match(remote.stdout, /distributed: \[ 2, 2, 5, 0 \]/);
  });
});
