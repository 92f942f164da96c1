/**
 * aiokit/bullmq's limits and failures, with real worker processes and a test
 * server that sees what runs at once (issue 15): concurrency, rate, perKey,
 * kill -9 of a worker, cancelling one run of two, Redis dying, Redis memory.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { distributedQueue, type Outcome, runWorker } from "aiokit/bullmq";
import { Redis } from "ioredis";
import { poll, startWorker, TestServer, type WorkerProcess } from "../fixtures/bullmq-harness.js";
import { square, type Visit, visit } from "../fixtures/bullmq-tasks.js";
import { type RedisServer, startRedis } from "../fixtures/redis-server.js";

let redis: RedisServer;
let server: TestServer;
let workers: WorkerProcess[] = [];
const NAME = "limits";

before(async () => {
  [redis, server] = await Promise.all([startRedis(), new TestServer().listen()]);
  workers = [0, 1, 2].map(() => startWorker(redis.url, NAME, 10));
});

after(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  await Promise.all([redis.stop(), server.close()]);
});

const visits = (run: string, n: number, ms: number, key?: (i: number) => string): Visit[] =>
  Array.from({ length: n }, (_, i) => ({
    server: server.url,
    run,
    ms,
    n: i,
    ...(key === undefined ? {} : { key: key(i) }),
  }));

async function collect<O>(outcomes: AsyncIterable<Outcome<O>>): Promise<Outcome<O>[]> {
  const all: Outcome<O>[] = [];
  for await (const o of outcomes) all.push(o);
  return all.sort((a, b) => a.index - b.index);
}

function assertEachOnce(outcomes: Outcome<number>[], n: number): void {
  assert.deepEqual(
    outcomes.map((o) => o.index),
    Array.from({ length: n }, (_, i) => i),
  );
  for (const o of outcomes) assert.deepEqual(o.status === "fulfilled" && o.value, o.index * 2);
}

describe("distributedQueue limits", () => {
  it("never runs more than `concurrency` inputs at once across 3 workers", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const outcomes = await collect(queue.run(visits("c20", 200, 30), visit, { concurrency: 20 }));
    assertEachOnce(outcomes, 200);
    const max = server.maxActive.get("c20") ?? 0;
    assert.ok(max <= 20, `${max} ran at once`);
    assert.ok(max > 10, `only ${max} ran at once: more than one worker's worth should`);
  });

  it("never starts more than `rate.limit` in any sliding `rate.interval`", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const rate = { limit: 20, interval: 1000 };
    const started = performance.now();
    // One input opens BullMQ's fixed window, the rest come 900 ms later: a
    // plain fixed window of 20 per second would start 19 at its end and 20
    // more at the next one's start, 39 in one second.
    const all = visits("rate", 60, 1);
    const inputs = (async function* () {
      yield all[0] as Visit;
      await server.until(() => server.starts.some((s) => s.run === "rate"), "the first start");
      await new Promise((resolve) => setTimeout(resolve, 900));
      yield* all.slice(1);
    })();
    const outcomes = await collect(queue.run(inputs, visit, { rate }));
    const elapsed = performance.now() - started;
    assertEachOnce(outcomes, 60);
    const at = server.starts.filter((s) => s.run === "rate").map((s) => s.at);
    at.sort((a, b) => a - b);
    for (let i = 0; i < at.length; i++) {
      const inWindow = at.filter(
        (t) => t >= (at[i] as number) && t < (at[i] as number) + rate.interval,
      );
      assert.ok(inWindow.length <= rate.limit, `${inWindow.length} starts in the window from ${i}`);
    }
    // 60 starts at ≤ 20/s take at least 2 s.
    assert.ok(elapsed >= 2000, `took ${elapsed} ms`);
  });

  it("never runs more than `perKey` inputs of one key at once, and no job waits in Redis for its key", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const keys = ["a", "b", "c"];
    // A job whose key is busy must never reach a worker: the producer holds
    // it. (The lease semaphore this replaced sent such jobs back to BullMQ's
    // delayed set, ~4.5 times per input.) Every 5 ms, look for delayed jobs.
    const probe = new Redis(redis.url);
    let delayed = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const key of await probe.keys(`bull:${NAME}.*:delayed`)) {
          delayed = Math.max(delayed, await probe.zcard(key));
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const outcomes = await collect(
      queue.run(
        visits("perkey", 90, 30, (i) => keys[i % 3] as string),
        visit,
        { key: (v) => v.key as string, perKey: 2, concurrency: 20 },
      ),
    ).finally(async () => {
      sampling = false;
      await sampler;
      probe.disconnect();
    });
    assertEachOnce(outcomes, 90);
    assert.equal(delayed, 0, "jobs whose key was busy went back to the queue");
    const maxima = keys.map((k) => server.maxActiveByKey.get(`perkey/${k}`) ?? 0);
    assert.ok(
      maxima.every((m) => m <= 2),
      `most at once per key: ${maxima}`,
    );
    assert.ok(
      maxima.some((m) => m === 2),
      `most at once per key: ${maxima}`,
    );
  });
});

describe("distributedQueue failures", () => {
  it("loses nothing when a worker is killed with SIGKILL mid-run, and yields no duplicate", async () => {
    const victim = startWorker(redis.url, NAME, 10);
    try {
      const queue = distributedQueue(NAME, { connection: redis.url });
      // Inputs keep coming until the victim, once it has booted and taken
      // jobs, is killed; then 50 more. 40 at once is more than the other
      // three workers (10 each) can take, so the victim gets some.
      let end = Number.POSITIVE_INFINITY;
      let yielded = 0;
      const inputs = (function* () {
        for (; yielded < end; yielded++) {
          yield { server: server.url, run: "crash", ms: 100, n: yielded } satisfies Visit;
        }
      })();
      const run = collect(queue.run(inputs, visit, { concurrency: 40, window: 100 }));
      await server.until(
        () => (server.activeByPid.get(victim.pid) ?? 0) >= 3,
        "the victim to run jobs",
      );
      victim.kill("SIGKILL");
      end = yielded + 50;
      const outcomes = await run;
      assertEachOnce(outcomes, end);
      const runs = new Map<number, number>();
      for (const s of server.starts) if (s.run === "crash") runs.set(s.n, (runs.get(s.n) ?? 0) + 1);
      const twice = [...runs.values()].filter((c) => c > 1).length;
      assert.ok(twice >= 1, "the killed worker's running jobs should have run again elsewhere");
    } finally {
      victim.kill("SIGKILL");
      await victim.exited;
    }
  });

  /** Runs visits of `ms` until `extra` has `n` of them running, then calls `then` and adds 20 more. */
  async function runUntilBusy(
    run: string,
    ms: number,
    extra: WorkerProcess,
    then: () => Promise<void>,
  ) {
    let end = Number.POSITIVE_INFINITY;
    let yielded = 0;
    const inputs = (function* () {
      for (; yielded < end; yielded++)
        yield { server: server.url, run, ms, n: yielded } satisfies Visit;
    })();
    const queue = distributedQueue(NAME, { connection: redis.url });
    const outcomes = collect(queue.run(inputs, visit, { concurrency: 40, window: 60 }));
    await server.until(
      () => (server.activeByPid.get(extra.pid) ?? 0) >= 2,
      "the extra worker to run jobs",
    );
    await then();
    end = yielded + 20;
    assertEachOnce(await outcomes, end);
    return server.starts.filter((s) => s.run === run && s.pid === extra.pid).map((s) => s.n);
  }

  it("stops a worker gently on its signal: its running jobs finish there, none runs twice", async () => {
    const extra = startWorker(redis.url, NAME, 10);
    const abortedBefore = server.aborted;
    let running = 0;
    const ran = await runUntilBusy("gentle", 300, extra, async () => {
      running = server.activeByPid.get(extra.pid) ?? 0;
      extra.kill("SIGTERM");
      const exit = await extra.exited;
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(exit.stdout, /stopped/);
    });
    assert.ok(running >= 2);
    assert.equal(server.aborted, abortedBefore, "no request was cut off");
    const starts = server.starts.filter((s) => s.run === "gentle");
    for (const n of ran)
      assert.equal(starts.filter((s) => s.n === n).length, 1, `input ${n} ran twice`);
  });

  it("stops a worker hard on its cancelSignal: its running jobs abort and run again elsewhere", async () => {
    const extra = startWorker(redis.url, NAME, 10);
    const abortedBefore = server.aborted;
    const ran = await runUntilBusy("hard", 1500, extra, async () => {
      extra.kill("SIGTERM");
      await extra.said("stopping");
      extra.kill("SIGTERM");
      const exit = await extra.exited;
      assert.equal(exit.code, 0, exit.stderr);
    });
    assert.ok(server.aborted > abortedBefore, "the worker's requests were cut off");
    const again = server.starts.filter(
      (s) => s.run === "hard" && s.pid !== extra.pid && ran.includes(s.n),
    );
    assert.ok(again.length >= 1, "the worker's jobs ran again on another worker");
  });

  it("cancels one run everywhere within a second and spares another run", async () => {
    const queue = distributedQueue(NAME, { connection: redis.url });
    const cancel = new AbortController();
    const reason = new Error("stop A");
    const a = collect(
      queue.run(visits("A", 100, 20_000), visit, { concurrency: 6, signal: cancel.signal }),
    );
    const b = collect(queue.run(visits("B", 60, 20), visit, { concurrency: 5 }));
    await server.until(() => (server.active.get("A") ?? 0) === 6, "6 of run A to be running");
    const startsOfA = server.starts.filter((s) => s.run === "A").length;
    cancel.abort(reason);
    await assert.rejects(a, reason);
    await server.until(() => (server.active.get("A") ?? 0) === 0, "run A's requests to stop", 1500);
    assertEachOnce(await b, 60);
    assert.equal(
      server.starts.filter((s) => s.run === "A").length,
      startsOfA,
      "A started nothing after the cancel",
    );
  });

  it("keeps Redis memory bounded by the window along a 60,000-input lazy input", async () => {
    const probe = new Redis(redis.url);
    try {
      const queue = distributedQueue(NAME, { connection: redis.url });
      const n = 60_000;
      const window = 1000;
      const chunk = 100;
      let pulled = 0;
      const input = (function* () {
        for (; pulled < n; pulled++) yield pulled;
      })();
      const baseline = await probe.dbsize(); // what earlier runs left, e.g. BullMQ's per-queue meta
      const usedMemory = async () =>
        Number(/used_memory:(\d+)/.exec(await probe.info("memory"))?.[1]);
      interface Sample {
        readonly seen: number;
        readonly ahead: number;
        readonly keys: number;
        readonly stream: number;
        readonly memory: number;
      }
      const samples: Sample[] = [];
      let seen = 0;
      for await (const o of queue.run(input, square, { window, chunk })) {
        assert.equal(o.status, "fulfilled");
        if (++seen % 2000 !== 0) continue;
        const [results] = await probe.keys(`aiokit:${NAME}:run:*:results`);
        samples.push({
          seen,
          ahead: pulled - seen, // pulled from the input, not yet yielded
          keys: (await probe.dbsize()) - baseline,
          stream: results === undefined ? 0 : await probe.xlen(results),
          memory: await usedMemory(),
        });
      }
      assert.equal(seen, n);
      const show = () => JSON.stringify(samples);
      // The producer pulls at most `window` inputs ahead of what it yields.
      // Redis holds the jobs of those inputs (window / chunk waiting, plus
      // the 3 workers' 30 active ones and as many reported but not yet
      // marked complete), two keys each at most (the job's hash and, while
      // active, its lock) and ~20 fixed keys: 0 to 100 keys for 600 jobs.
      // The results stream holds the window's results and those of the
      // batch being yielded (deleted once yielded): at most 2 × window.
      const jobs = window / chunk + 30 + 30;
      for (const s of samples) {
        assert.ok(s.ahead <= window, `pulled ${s.ahead} inputs ahead: ${show()}`);
        assert.ok(s.keys <= 2 * jobs + 20, `${s.keys} keys in Redis: ${show()}`);
        assert.ok(s.stream <= 2 * window + 1, `${s.stream} results in the stream: ${show()}`);
      }
      // Flat: the last half of the run needs no more memory than the first
      // 10,000 inputs did, within 1 MB (allocator noise), whatever n is.
      const early = Math.max(...samples.filter((s) => s.seen <= 10_000).map((s) => s.memory));
      const late = Math.max(...samples.filter((s) => s.seen > n / 2).map((s) => s.memory));
      assert.ok(late - early < 1_000_000, `Redis memory grew by ${late - early} bytes: ${show()}`);
      assert.ok(
        (await probe.dbsize()) <= baseline + 5,
        `the run left ${(await probe.keys("*")).join(" ")}`,
      );
    } finally {
      probe.disconnect();
    }
  });

  it("fails the producer and the worker with a clear error when Redis dies mid-run", async () => {
    const own = await startRedis();
    const worker = startWorker(own.url, "dying", 2);
    try {
      const queue = distributedQueue("dying", { connection: own.url });
      const run = collect(queue.run(visits("dying", 4, 60_000), visit));
      await server.until(() => (server.active.get("dying") ?? 0) >= 1, "a job to run");
      await own.stop();
      await assert.rejects(run, {
        name: "RedisUnavailableError",
        message: /Lost the connection to Redis at 127\.0\.0\.1:\d+/,
      });
      const exit = await worker.exited;
      assert.equal(exit.code, 3, exit.stderr);
      assert.match(exit.stderr, /RedisUnavailableError: Lost the connection to Redis/);
    } finally {
      worker.kill();
      await own.stop();
    }
  });

  // Each connection gives up on its own schedule: BullMQ's queues and workers
  // have connections of their own, which may end while aiokit's own ones are
  // still reconnecting. Here BullMQ's are killed for good (no retries) while
  // aiokit's live on: the run and the worker must still say Redis is lost,
  // not ioredis's bare "Connection is closed.", and never hang.
  it("fails the producer with RedisUnavailableError when BullMQ's own connection gives up first", {
    timeout: 30_000,
  }, async () => {
    const own = await startRedis();
    const probe = new Redis(own.port, "127.0.0.1", { connectionName: "probe" });
    try {
      const queue = distributedQueue("gives-up", { connection: noRetries(own.port) });
      const { inputs, release } = gated(1, 2);
      const run = collect(queue.run(inputs, square));
      await poll(async () => {
        const keys = await probe.keys("bull:*:wait");
        return keys.length > 0 && (await probe.llen(keys[0] as string)) > 0;
      }, "the first job to reach Redis");
      await killBullmqConnections(probe);
      release();
      await assert.rejects(run, {
        name: "RedisUnavailableError",
        message: /Lost the connection to Redis at 127\.0\.0\.1:\d+ \(producer\)/,
      });
      await poll(
        async () => !(await clientList(probe)).includes(" name=aiokit-"),
        "the producer to close",
      );
    } finally {
      probe.disconnect();
      await own.stop();
    }
  });

  it("fails the worker with RedisUnavailableError when BullMQ's own connection gives up first", {
    timeout: 30_000,
  }, async () => {
    const own = await startRedis();
    const probe = new Redis(own.port, "127.0.0.1", { connectionName: "probe" });
    const stop = new AbortController();
    try {
      const served = runWorker("gives-up", [square], {
        connection: noRetries(own.port),
        signal: stop.signal,
      });
      served.catch(() => {}); // asserted below, once it has had cause to fail
      const queue = distributedQueue("gives-up", { connection: own.url });
      // A run the worker is serving (its input is not done): its BullMQ
      // worker is connected, and would stay idle were its connection lost.
      const { inputs, release } = gated(3, 4);
      const run = queue.run(inputs, square)[Symbol.asyncIterator]();
      assert.equal(((await run.next()).value as Outcome<number>).status, "fulfilled");
      await killBullmqConnections(probe);
      await assert.rejects(served, {
        name: "RedisUnavailableError",
        message: /Lost the connection to Redis at 127\.0\.0\.1:\d+ \(worker\)/,
      });
      release();
      await run.return?.();
    } finally {
      stop.abort();
      probe.disconnect();
      await own.stop();
    }
  });
});

/** An input that yields `first`, then `second` once released. */
function gated<T>(first: T, second: T): { inputs: AsyncGenerator<T>; release: () => void } {
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const inputs = (async function* () {
    yield first;
    await gate;
    yield second;
  })();
  return { inputs, release };
}

/** ioredis options that give up at the first lost connection. */
const noRetries = (port: number) => ({ host: "127.0.0.1", port, retryStrategy: () => null });

async function clientList(probe: Redis): Promise<string> {
  return (await probe.client("LIST")) as string;
}

/** Kills every connection to Redis but aiokit's own (`aiokit-…`) and the probe's. */
async function killBullmqConnections(probe: Redis): Promise<void> {
  const ids = (await clientList(probe))
    .split("\n")
    .filter((line) => line.startsWith("id=") && !/ name=(aiokit-|probe )/.test(line))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] as string);
  assert.ok(ids.length > 0, "no BullMQ connection to kill");
  for (const id of ids) await probe.client("KILL", "ID", id);
}
