import type { RedisOptions as BullRedisOptions } from "bullmq";
import type { Redis } from "ioredis";
import { describe } from "../_internal/describe.js";
import { CancelledError } from "../index.js";
import { bullmq } from "./deps.js";
import { Feeder, type WireItem } from "./feeder.js";
import { checkRunOptions, type Outcome, type RunOptions, splitRate } from "./options.js";
import { type JobQueue, jobQueue, type RunInput } from "./queue-map.js";
import {
  type Connection,
  checkVersion,
  connect,
  connectionLost,
  ended,
  errorFromData,
  keys,
  redisOptions,
  unavailable,
} from "./redis.js";
import { expectName, type TaskDefinition } from "./task.js";

/** Options of {@link distributedQueue}. */
export interface DistributedQueueOptions {
  /** Where Redis is: a `redis://host:port/db` URL or ioredis options. */
  readonly connection: Connection;
}

/**
 * A queue whose tasks run on workers ({@link runWorker}) on any machine that
 * reaches the same Redis, through BullMQ: the same interface as
 * {@link localQueue}. Each `run` gets its own BullMQ queue (BullMQ's global
 * limits are per queue) and its own Redis stream of results, which the
 * producer reads and deduplicates: delivery to workers is at-least-once (a
 * crashed worker's job runs again elsewhere), each input's outcome is yielded
 * exactly once. Inputs, values and errors cross machines as JSON.
 *
 * @example
 * ```ts
 * import { distributedQueue } from "aiokit/bullmq";
 * // fetchPage = defineTask("fetchPage", …), in a module the workers import too
 * const queue = distributedQueue("crawl", { connection: "redis://127.0.0.1:6379" });
 * for await (const o of queue.run(urls, fetchPage, { concurrency: 20, rate: { limit: 100, interval: 1000 } })) {
 *   if (o.status === "rejected") console.error(urls[o.index], o.reason);
 * }
 * ```
 */
export function distributedQueue(name: string, options: DistributedQueueOptions): JobQueue {
  expectName("the queue name", name);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Expected distributedQueue options to be an object like { connection }, got ${describe(options)}`,
    );
  }
  const redis = redisOptions(options.connection);
  return jobQueue((inputs, task, runOptions) =>
    runDistributed(name, redis, inputs, task, runOptions),
  );
}

function runId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function iteratorOf<I>(inputs: RunInput<I>): Iterator<I> | AsyncIterator<I> {
  if (inputs !== null && typeof inputs === "object") {
    const asyncIt = (inputs as Partial<AsyncIterable<I>>)[Symbol.asyncIterator];
    if (typeof asyncIt === "function") return asyncIt.call(inputs);
    const syncIt = (inputs as Partial<Iterable<I>>)[Symbol.iterator];
    if (typeof syncIt === "function") return syncIt.call(inputs);
  }
  throw new TypeError(
    `Expected \`inputs\` to be an iterable or async iterable, got ${describe(inputs)}`,
  );
}

async function* runDistributed<I, O>(
  name: string,
  redis: ReturnType<typeof redisOptions>,
  inputs: RunInput<I>,
  task: TaskDefinition<I, O>,
  options: RunOptions<I> | undefined,
): AsyncGenerator<Outcome<O>, void, undefined> {
  const checked = checkRunOptions(options);
  const signal = checked.signal;
  signal?.throwIfAborted();
  const iterator = iteratorOf(inputs);
  const id = checked.runId ?? runId();
  const k = keys(name);
  const client = connect(redis, "producer");
  const reader = connect(redis, "producer results");
  // Before anything else: a run with a live producer is not ours to touch.
  let attached: boolean;
  try {
    attached = await claim(client, redis, k, id);
  } catch (error) {
    reader.disconnect();
    client.disconnect();
    throw error;
  }
  const queue = new bullmq.Queue(k.queue(id), { connection: redis as BullRedisOptions });
  queue.on("error", () => {}); // surfaced by the commands that fail
  let complete = false;
  let gone = false; // a connection gave up: cleaning up in Redis is pointless
  const lost = (): boolean => gone || ended(client) || ended(reader);
  const guard = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (error) {
      if (connectionLost(error, client, reader)) {
        gone = true;
        throw unavailable(redis, "producer", error);
      }
      throw error;
    }
  };
  // Attached to a run whose producer died: results of inputs not pulled
  // again yet (bounded by the dead producer's window), reported when they are.
  const early = new Map<string, string>();
  // Attached: the items sent and not reported, to send again any whose job is
  // gone without a result (the dead producer read the result, then died
  // before it was reported).
  const sent = attached && checked.chunk === 1 ? new Map<string, WireItem>() : undefined;
  const feeder = new Feeder(
    iterator,
    checked,
    task.name,
    async (jobs) => {
      await guard(queue.addBulk(jobs));
      const items = jobs.flatMap((job) => job.data.items);
      for (const item of items) {
        // Only those still pending: a result may have come in meanwhile.
        if (sent !== undefined && feeder.pending.has(item.id)) sent.set(item.id, item);
      }
      await guard(client.hincrby(k.run(id), "enqueued", items.length));
    },
    (itemId) => {
      const result = early.get(itemId);
      if (result !== undefined) early.delete(itemId);
      return result;
    },
  );
  // The claim is renewed in the background, so a slow input or a slow
  // consumer of the outcomes does not let it lapse; its failure (the run was
  // cancelled elsewhere, or Redis is gone) stops the run.
  const beat = new AbortController();
  let beating = false;
  const timer = setInterval(() => {
    if (beating || beat.signal.aborted) return;
    beating = true;
    guard(heartbeat(client, k, id)).then(
      () => {
        beating = false;
      },
      (error: unknown) => beat.abort(error),
    );
  }, BEAT);
  try {
    if (checked.concurrency !== Number.POSITIVE_INFINITY) {
      await guard(queue.setGlobalConcurrency(checked.concurrency));
    }
    if (checked.rate !== undefined) {
      const { max, duration } = splitRate(checked.rate.limit, checked.rate.interval);
      await guard(queue.setGlobalRateLimit(max, duration));
    }
    await guard(
      client
        .multi()
        .hset(k.run(id), {
          task: task.name,
          retry: JSON.stringify(checked.retry),
          perKey: String(checked.perKey),
          label: checked.label,
          state: "running",
        })
        .hsetnx(k.run(id), "started", String(Date.now()))
        // The stream exists from the start: workers add with NOMKSTREAM, so a
        // late result of a finished run cannot create it again.
        .xadd(k.results(id), "*", "id", "", "r", "")
        .sadd(k.runs, id)
        .exec(),
    );
    // Attached: the results the dead producer did not read, before pulling
    // any input (an input with a result must not run again).
    let lastId = attached ? await guard(readLeft(client, k.results(id), early)) : "0-0";
    let checkedJobs = Date.now();
    feeder.start();
    for (;;) {
      feeder.throwIfFailed();
      signal?.throwIfAborted();
      beat.signal.throwIfAborted();
      const ready = feeder.takeReady();
      if (ready.length > 0) {
        await guard(client.hincrby(k.run(id), "done", ready.length));
        for (const r of ready) yield outcome<O>(r.id, r.i, r.result);
        continue;
      }
      if (feeder.pending.size === 0) {
        if (feeder.done) break;
        // Nothing to read until more is sent: wait for the input, not Redis.
        await untilAborted(feeder.changed(), [signal, beat.signal]);
        continue;
      }
      const read = (await guard(
        reader.xread("COUNT", 1000, "BLOCK", 200, "STREAMS", k.results(id), lastId),
      )) as [string, [string, string[]][]][] | null;
      const entries = read?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        if (sent !== undefined && Date.now() - checkedJobs >= CHECK_JOBS) {
          await feeder.resend(await guard(lostItems(client, queue, sent)));
          checkedJobs = Date.now();
        }
        continue;
      }
      const seen: string[] = [];
      let reported = 0;
      for (const [entryId, fields] of entries) {
        lastId = entryId;
        seen.push(entryId);
        const itemId = fields[1] as string;
        const i = feeder.settle(itemId);
        if (i === undefined) {
          // A duplicate (the job ran twice: at-least-once), or, attached, an
          // input not pulled again yet.
          if (attached && itemId !== "" && early.size < EARLY_MAX) {
            early.set(itemId, fields[3] as string);
          }
          continue;
        }
        sent?.delete(itemId);
        reported++;
        yield outcome<O>(itemId, i, fields[3] as string);
      }
      // Deleted once yielded: a producer killed before this leaves them for
      // the one that attaches.
      await Promise.all([
        feeder.sendReleased(),
        guard(
          client
            .multi()
            .xdel(k.results(id), ...seen)
            .hincrby(k.run(id), "done", reported)
            .exec(),
        ),
      ]);
    }
    complete = true;
  } finally {
    clearInterval(timer);
    await feeder.stop();
    await cleanup(client, queue, k, id, complete, lost());
    reader.disconnect();
    client.disconnect();
  }
}

/** Resolves with `promise`, or rejects with a signal's reason once one aborts. */
function untilAborted(
  promise: Promise<void>,
  signals: readonly (AbortSignal | undefined)[],
): Promise<void> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      for (const s of live) s.removeEventListener("abort", onAbort);
    };
    const onAbort = (event?: Event): void => {
      done();
      const source = (event?.target as AbortSignal | undefined) ?? live.find((s) => s.aborted);
      reject(source?.reason);
    };
    if (live.some((s) => s.aborted)) return onAbort();
    for (const s of live) s.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      done();
      resolve();
    });
  });
}

/** How often a producer says it is alive (ms), and how long that lasts. */
const BEAT = 1000;
const BEAT_TTL = 5000;
/** Results kept for inputs not pulled again yet, when attached. */
const EARLY_MAX = 100_000;
/** How long an attached producer waits for results before it looks for lost jobs (ms). */
const CHECK_JOBS = 2000;

/** Reads a results stream from the start into `into` (input id → result); resolves to the last entry's id. */
async function readLeft(client: Redis, stream: string, into: Map<string, string>): Promise<string> {
  let last = "0-0";
  for (;;) {
    const page = await client.xrange(stream, last === "0-0" ? "-" : `(${last}`, "+", "COUNT", 1000);
    for (const [entryId, fields] of page) {
      last = entryId;
      const itemId = fields[1] as string;
      if (itemId !== "" && into.size < EARLY_MAX) into.set(itemId, fields[3] as string);
    }
    if (page.length < 1000) return last;
  }
}

/** The items whose BullMQ job no longer exists (`x<id>`, as enqueued with chunk 1). */
async function lostItems(
  client: Redis,
  queue: { toKey(type: string): string },
  sent: ReadonlyMap<string, WireItem>,
): Promise<WireItem[]> {
  const items = [...sent.values()];
  if (items.length === 0) return [];
  const pipeline = client.pipeline();
  for (const item of items) pipeline.exists(queue.toKey(`x${item.id}`));
  const found = (await pipeline.exec()) ?? [];
  return items.filter((_, j) => found[j]?.[1] === 0);
}

function outcome<O>(itemId: string, i: number, result: string): Outcome<O> {
  const r = JSON.parse(result) as { s: "fulfilled" | "rejected"; v?: O; e?: unknown; a: number };
  return r.s === "fulfilled"
    ? { index: i, id: itemId, status: "fulfilled", value: r.v as O, attempts: r.a }
    : { index: i, id: itemId, status: "rejected", reason: errorFromData(r.e), attempts: r.a };
}

/**
 * Takes the producer's place in run `id`; resolves to whether it attaches to
 * a running run (its producer died) rather than starting one. Rejects when
 * another producer is alive, or Redis is too old or unreachable.
 */
async function claim(
  client: Redis,
  redis: ReturnType<typeof redisOptions>,
  k: ReturnType<typeof keys>,
  id: string,
): Promise<boolean> {
  try {
    await checkVersion(client, redis);
    const [[, taken], [, state]] = (await client
      .multi()
      .set(k.producer(id), String(Date.now()), "PX", BEAT_TTL, "NX")
      .hget(k.run(id), "state")
      .exec()) as [[unknown, string | null], [unknown, string | null]];
    if (taken === null) {
      throw new Error(
        `Cannot produce run ${id}: another producer is running it; stop that one, or wait ${BEAT_TTL / 1000} s after it died`,
      );
    }
    return state === "running";
  } catch (error) {
    if (connectionLost(error, client)) throw unavailable(redis, "producer", error);
    throw error;
  }
}

/** Keeps the producer's claim, and notices a run cancelled from elsewhere (`cancelRun`). */
async function heartbeat(client: Redis, k: ReturnType<typeof keys>, id: string): Promise<void> {
  const [, [, state]] = (await client
    .multi()
    .pexpire(k.producer(id), BEAT_TTL)
    .hget(k.run(id), "state")
    .exec()) as [unknown, [unknown, string | null]];
  if (state !== "running") throw new CancelledError(`The run ${id} was cancelled`);
}

/** Tells the workers the run is over (cancelled unless complete), then deletes its keys. */
export async function cleanup(
  client: Redis,
  queue: {
    obliterate(opts: { force: boolean }): Promise<void>;
    close(): Promise<void>;
    disconnect(): Promise<void>;
  },
  k: ReturnType<typeof keys>,
  id: string,
  complete: boolean,
  lost: boolean,
): Promise<void> {
  if (lost) {
    await queue.disconnect().catch(() => {});
    return;
  }
  try {
    if (!complete) await client.hset(k.run(id), "state", "cancelled");
    await client.srem(k.runs, id);
    await queue.obliterate({ force: true });
    await client.del(k.run(id), k.results(id), k.producer(id));
  } catch {
    // Cleanup is best effort: the run's own outcome or error matters more.
  } finally {
    await queue.close().catch(() => {});
  }
}
