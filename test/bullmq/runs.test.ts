/**
 * aiokit/bullmq's runs: listRuns, cancelRun, and a producer attaching to the
 * run of one that died (`runId`), as `aiokit fetch --queue --resume` does
 * (issue 16). A dead producer's state is written here as `kill -9` leaves
 * it: the run's hash and results stream, no producer claim.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CancelledError } from "aiokit";
import { cancelRun, distributedQueue, listRuns, type Outcome } from "aiokit/bullmq";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { poll, startWorker, TestServer, type WorkerProcess } from "../fixtures/bullmq-harness.js";
import { square, visit } from "../fixtures/bullmq-tasks.js";
import { type RedisServer, startRedis } from "../fixtures/redis-server.js";

let redis: RedisServer;
let client: Redis;
let server: TestServer;
const workers: WorkerProcess[] = [];

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  server = await new TestServer().listen();
});

after(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  client.disconnect();
  await server.close();
  await redis.stop();
});

const hex = (n: number) => n.toString(16).padStart(4, "0");

/** What a producer killed with kill -9 leaves of run `id` of queue `name`. */
async function orphan(
  name: string,
  id: string,
  task: string,
  results: [number, number][] = [],
): Promise<void> {
  const run = `aiokit:${name}:run:${id}`;
  const multi = client
    .multi()
    .hset(run, {
      task,
      retry: '{"retries":0}',
      perKey: "Infinity",
      label: "left",
      state: "running",
      started: String(Date.now()),
    })
    .xadd(`${run}:results`, "*", "id", "", "r", "")
    .sadd(`aiokit:${name}:runs`, id);
  for (const [n, value] of results) {
    multi.xadd(
      `${run}:results`,
      "*",
      "id",
      hex(n),
      "r",
      JSON.stringify({ s: "fulfilled", v: value, a: 1 }),
    );
  }
  await multi.exec();
}

async function collect<O>(it: AsyncIterable<Outcome<O>>): Promise<Outcome<O>[]> {
  const all: Outcome<O>[] = [];
  for await (const o of it) all.push(o);
  return all.sort((a, b) => a.index - b.index);
}

describe("listRuns and cancelRun", { timeout: 60_000 }, () => {
  it("list a running run with its workers, and cancel it everywhere: the producer rejects", async () => {
    const name = "runs-cancel";
    const w = startWorker(redis.url, name, 4);
    workers.push(w);
    const queue = distributedQueue(name, { connection: redis.url });
    const inputs = [1, 2, 3, 4, 5, 6].map((n) => ({ server: server.url, run: "c", ms: 60_000, n }));
    const running = collect(queue.run(inputs, visit, { concurrency: 4, label: "the label" }));
    running.catch(() => {});
    await server.until(() => server.active.get("c") === 4, "4 visits");
    const [run, ...others] = await listRuns(name, { connection: redis.url });
    assert.equal(others.length, 0);
    assert.equal(run?.label, "the label");
    assert.equal(run?.task, "visit");
    assert.equal(run?.enqueued, 6);
    assert.equal(run?.done, 0, "counted the stream's first entry, which is no result");
    assert.equal(run?.workers, 1);
    assert.equal(run?.producer, true);
    assert.equal(await cancelRun(name, run?.id as string, { connection: redis.url }), true);
    await server.until(() => server.active.get("c") === 0, "the visits aborted", 2000);
    await assert.rejects(
      running,
      (e: unknown) => e instanceof CancelledError && /was cancelled/.test(e.message),
    );
    assert.deepEqual(await listRuns(name, { connection: redis.url }), []);
    assert.equal(await cancelRun(name, run?.id as string, { connection: redis.url }), false);
    await assert.rejects(cancelRun(name, "not hex", { connection: redis.url }), TypeError);
  });
});

describe("runId: attaching to a run whose producer died", { timeout: 60_000 }, () => {
  it("reports results the dead producer left unread, without running them again", async () => {
    const name = "attach-early";
    const id = "00aa";
    await orphan(name, id, visit.name, [
      [2, 4],
      [3, 6],
    ]);
    const w = startWorker(redis.url, name, 4);
    workers.push(w);
    const queue = distributedQueue(name, { connection: redis.url });
    const inputs = [1, 2, 3, 4].map((n) => ({ server: server.url, run: "early", ms: 1, n }));
    const got = await collect(queue.run(inputs, visit, { id: (v) => hex(v.n), runId: id }));
    assert.deepEqual(
      got.map((o) => (o.status === "fulfilled" ? o.value : o.reason)),
      [2, 4, 6, 8],
    );
    const ran = server.starts.filter((s) => s.run === "early").map((s) => s.n);
    assert.deepEqual(ran.sort(), [1, 4]);
    assert.deepEqual(await listRuns(name, { connection: redis.url }), []);
  });

  it("enqueues again an input whose job is gone without a result", async () => {
    const name = "attach-lost";
    const id = "00bb";
    await orphan(name, id, square.name);
    const queue = distributedQueue(name, { connection: redis.url });
    const running = collect(queue.run([7], square, { id: (n) => hex(n), runId: id }));
    // No worker yet: the job waits; then it vanishes, as when the dead producer
    // had read its result (and died) before BullMQ removed the job.
    const bull = new Queue(`${name}.${id}`, {
      connection: { host: "127.0.0.1", port: redis.port },
    });
    await poll(async () => (await bull.getJob(`x${hex(7)}`)) !== undefined, "the job");
    await bull.remove(`x${hex(7)}`);
    await bull.close();
    const w = startWorker(redis.url, name, 4);
    workers.push(w);
    const [only] = await running;
    assert.equal(only?.status === "fulfilled" ? only.value : undefined, 49);
  });

  it("refuses a run whose producer is alive", async () => {
    const name = "attach-busy";
    const queue = distributedQueue(name, { connection: redis.url });
    const inputs = [{ server: server.url, run: "busy", ms: 60_000, n: 1 }];
    const stop = new AbortController();
    const first = collect(queue.run(inputs, visit, { runId: "00cc", signal: stop.signal }));
    first.catch(() => {});
    await poll(
      async () => (await listRuns(name, { connection: redis.url })).length === 1,
      "the run",
    );
    await assert.rejects(
      collect(queue.run(inputs, visit, { runId: "00cc" })),
      /Cannot produce run 00cc: another producer is running it/,
    );
    assert.equal(
      (await listRuns(name, { connection: redis.url }))[0]?.producer,
      true,
      "the refused one ended the run",
    );
    stop.abort();
    await assert.rejects(first);
    assert.deepEqual(await listRuns(name, { connection: redis.url }), []);
  });
});
