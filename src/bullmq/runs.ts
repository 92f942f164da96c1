import type { RedisOptions as BullRedisOptions } from "bullmq";
import { describe } from "../_internal/describe.js";
import { bullmq } from "./deps.js";
import { cleanup } from "./distributed-queue.js";
import {
  type Connection,
  connect,
  connectionLost,
  keys,
  redisOptions,
  unavailable,
} from "./redis.js";
import { expectName } from "./task.js";

/** One run of a distributed queue, as {@link listRuns} sees it. */
export interface RunInfo {
  /** The run's id: what {@link cancelRun} and the `runId` option take. */
  readonly id: string;
  /** The task's name. */
  readonly task: string;
  /** The run's `label` option ("" when none). */
  readonly label: string;
  /** Inputs enqueued so far (an input enqueued again by a restarted producer counts twice). */
  readonly enqueued: number;
  /** Results the producer has read. */
  readonly done: number;
  /** Worker processes serving it now. */
  readonly workers: number;
  /** When it started, in ms since the epoch (the producer's clock). */
  readonly started: number;
  /** Whether its producer is alive: a run whose producer died waits for one to attach (`runId`). */
  readonly producer: boolean;
}

/** Options of {@link listRuns} and {@link cancelRun}. */
export interface RunsOptions {
  /** Where Redis is: a `redis://host:port/db` URL or ioredis options. */
  readonly connection: Connection;
}

/**
 * The active runs of queue `name`, oldest first.
 *
 * @example
 * ```ts no-run: needs a redis-server at 127.0.0.1:6379
 * import { listRuns } from "aiokit/bullmq";
 * for (const run of await listRuns("crawl", { connection: "redis://127.0.0.1:6379" })) {
 *   console.log(run.id, `${run.done}/${run.enqueued}`, run.workers, run.producer ? "" : "(no producer)");
 * }
 * ```
 */
export async function listRuns(name: string, options: RunsOptions): Promise<RunInfo[]> {
  return withClient(name, options, async (client, redis) => {
    const k = keys(name);
    const ids = await client.smembers(k.runs);
    const runs: RunInfo[] = [];
    for (const id of ids) {
      const [[, meta], [, producer]] = (await client
        .multi()
        .hgetall(k.run(id))
        .exists(k.producer(id))
        .exec()) as [[unknown, Record<string, string>], [unknown, number]];
      if (meta.state !== "running") continue;
      const queue = new bullmq.Queue(k.queue(id), { connection: redis as BullRedisOptions });
      queue.on("error", () => {});
      let workers = 0;
      try {
        workers = await queue.getWorkersCount();
      } finally {
        await queue.close().catch(() => {});
      }
      runs.push({
        id,
        task: meta.task ?? "",
        label: meta.label ?? "",
        enqueued: Number(meta.enqueued ?? 0),
        done: Number(meta.done ?? 0),
        workers,
        started: Number(meta.started ?? 0),
        producer: producer === 1,
      });
    }
    return runs.sort((a, b) => a.started - b.started);
  });
}

/**
 * Cancels run `id` of queue `name` everywhere, as aborting its producer's
 * `signal` does: the running jobs' signals abort on every worker (within
 * about 250 ms), queued jobs are removed, nothing is retried; the producer,
 * if alive, rejects with a `CancelledError` within about a second. Resolves to
 * false when there is no such active run. Idempotent.
 *
 * @example
 * ```ts no-run: needs a redis-server at 127.0.0.1:6379
 * import { cancelRun } from "aiokit/bullmq";
 * const found = await cancelRun("crawl", "3f9a0c1b2d4e5f60", { connection: "redis://127.0.0.1:6379" });
 * if (!found) console.error("no such run");
 * ```
 */
export async function cancelRun(name: string, id: string, options: RunsOptions): Promise<boolean> {
  if (typeof id !== "string" || !/^[0-9a-f]{1,64}$/.test(id)) {
    throw new TypeError(`Expected the run id to be hex digits, got ${describe(id)}`);
  }
  return withClient(name, options, async (client, redis) => {
    const k = keys(name);
    if ((await client.sismember(k.runs, id)) === 0) return false;
    const queue = new bullmq.Queue(k.queue(id), { connection: redis as BullRedisOptions });
    queue.on("error", () => {});
    await cleanup(client, queue, k, id, false, false);
    return true;
  });
}

async function withClient<T>(
  name: string,
  options: RunsOptions,
  use: (client: ReturnType<typeof connect>, redis: ReturnType<typeof redisOptions>) => Promise<T>,
): Promise<T> {
  expectName("the queue name", name);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Expected options to be an object like { connection }, got ${describe(options)}`,
    );
  }
  const redis = redisOptions(options.connection);
  const client = connect(redis, "runs");
  try {
    return await use(client, redis);
  } catch (error) {
    if (connectionLost(error, client)) throw unavailable(redis, "runs", error);
    throw error;
  } finally {
    client.disconnect();
  }
}
