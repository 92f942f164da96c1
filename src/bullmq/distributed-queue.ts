import type { RedisOptions as BullRedisOptions } from "bullmq";
import type { Redis } from "ioredis";
import { describe } from "../_internal/describe.js";
import { bullmq } from "./deps.js";
import { Feeder } from "./feeder.js";
import { checkRunOptions, type Outcome, type RunOptions, splitRate } from "./options.js";
import { type JobQueue, jobQueue, type RunInput } from "./queue-map.js";
import {
  type Connection,
  connect,
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
  const id = runId();
  const k = keys(name);
  const client = connect(redis, "producer");
  const reader = connect(redis, "producer results");
  const queue = new bullmq.Queue(k.queue(id), { connection: redis as BullRedisOptions });
  queue.on("error", () => {}); // surfaced by the commands that fail
  let complete = false;
  const lost = (): boolean => ended(client) || ended(reader);
  const guard = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (error) {
      if (lost()) throw unavailable(redis, "producer", error);
      throw error;
    }
  };
  const feeder = new Feeder(iterator, checked, task.name, async (jobs) => {
    await guard(queue.addBulk(jobs));
  });
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
          state: "running",
        })
        // The stream exists from the start: workers add with NOMKSTREAM, so a
        // late result of a finished run cannot create it again.
        .xadd(k.results(id), "*", "id", "", "r", "")
        .sadd(k.runs, id)
        .exec(),
    );
    feeder.start();
    let lastId = "0-0";
    for (;;) {
      feeder.throwIfFailed();
      signal?.throwIfAborted();
      if (feeder.pending.size === 0) {
        if (feeder.done) break;
        // Nothing to read until more is sent: wait for the input, not Redis.
        await untilAborted(feeder.changed(), signal);
        continue;
      }
      const read = (await guard(
        reader.xread("COUNT", 1000, "BLOCK", 200, "STREAMS", k.results(id), lastId),
      )) as [string, [string, string[]][]][] | null;
      const entries = read?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      const seen: string[] = [];
      for (const [entryId, fields] of entries) {
        lastId = entryId;
        seen.push(entryId);
        const itemId = fields[1] as string;
        const i = feeder.settle(itemId);
        if (i === undefined) continue; // a duplicate: the job ran twice (at-least-once)
        const r = JSON.parse(fields[3] as string) as {
          s: "fulfilled" | "rejected";
          v?: O;
          e?: unknown;
          a: number;
        };
        yield r.s === "fulfilled"
          ? { index: i, id: itemId, status: "fulfilled", value: r.v as O, attempts: r.a }
          : { index: i, id: itemId, status: "rejected", reason: errorFromData(r.e), attempts: r.a };
      }
      await Promise.all([feeder.sendReleased(), guard(client.xdel(k.results(id), ...seen))]);
    }
    complete = true;
  } finally {
    await feeder.stop();
    await cleanup(client, queue, k, id, complete, lost());
    reader.disconnect();
    client.disconnect();
  }
}

/** Resolves with `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

/** Tells the workers the run is over (cancelled unless complete), then deletes its keys. */
async function cleanup(
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
    await client.del(k.run(id), k.results(id));
  } catch {
    // Cleanup is best effort: the run's own outcome or error matters more.
  } finally {
    await queue.close().catch(() => {});
  }
}
