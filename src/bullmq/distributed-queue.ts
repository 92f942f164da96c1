import type { RedisOptions as BullRedisOptions } from "bullmq";
import type { Redis } from "ioredis";
import { describe } from "../_internal/describe.js";
import { CancelledError } from "../index.js";
import { bullmq } from "./deps.js";
import { checkRunOptions, expectId, type Outcome, type RunOptions, splitRate } from "./options.js";
import { type JobQueue, jobQueue, type RunInput } from "./queue-map.js";
import {
  type Connection,
  checkVersion,
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

/** One input as it travels in a BullMQ job. */
export interface WireItem {
  readonly i: number;
  readonly id: string;
  readonly input: unknown;
  readonly key?: string;
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
  let inputDone = false;
  const lost = (): boolean => ended(client) || ended(reader);
  const guard = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (error) {
      if (lost()) throw unavailable(redis, "producer", error);
      throw error;
    }
  };
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
    const pending = new Map<string, number>(); // input id -> index, while not reported
    // Attached to a run whose producer died: results of inputs not enqueued
    // again yet (bounded by the dead producer's window), reported when they are.
    const early = new Map<string, string>();
    // Attached: the pending items, to enqueue again any whose job is gone
    // without a result (the dead producer read the result, then died before
    // it was reported).
    const sent = attached && checked.chunk === 1 ? new Map<string, WireItem>() : undefined;
    let checkedJobs = Date.now();
    let index = 0;
    // Attached: the results the dead producer did not read, before enqueueing
    // anything (an input with a result must not run again).
    let lastId = attached ? await guard(readLeft(client, k.results(id), early)) : "0-0";
    let beat = Date.now();
    while (!inputDone || pending.size > 0) {
      signal?.throwIfAborted();
      if (Date.now() - beat >= BEAT) {
        beat = Date.now();
        await guard(heartbeat(client, k, id));
      }
      const ready: [string, number, string][] = [];
      const jobs: { name: string; data: { items: WireItem[] }; opts: object }[] = [];
      let items: WireItem[] = [];
      const seal = (): void => {
        if (items.length === 0) return;
        const first = items[0] as WireItem;
        jobs.push({
          name: task.name,
          data: { items },
          opts: {
            jobId: checked.chunk === 1 ? `x${first.id}` : `c${first.i}`,
            removeOnComplete: true,
            removeOnFail: true,
          },
        });
        items = [];
      };
      const flush = async (): Promise<void> => {
        seal();
        if (jobs.length === 0) return;
        const sent = jobs.splice(0);
        await guard(queue.addBulk(sent));
        await guard(client.hincrby(k.run(id), "enqueued", sent.length));
      };
      while (!inputDone && pending.size < checked.window) {
        const step = await nextInput(iterator, jobs.length + items.length > 0, flush);
        if (step.done === true) {
          inputDone = true;
          break;
        }
        const input = step.value;
        const i = index++;
        const itemId = checked.id === undefined ? String(i) : expectId(checked.id(input, i), i);
        if (pending.has(itemId)) {
          throw new TypeError(`Expected \`id\` to be unique in the run, got ${itemId} twice`);
        }
        const result = early.get(itemId);
        if (result !== undefined) {
          early.delete(itemId);
          ready.push([itemId, i, result]);
          continue;
        }
        pending.set(itemId, i);
        const key = checked.key?.(input, i);
        const item = key === undefined ? { i, id: itemId, input } : { i, id: itemId, input, key };
        sent?.set(itemId, item);
        items.push(item);
        if (items.length === checked.chunk) seal();
      }
      await flush();
      if (ready.length > 0) await guard(client.hincrby(k.run(id), "done", ready.length));
      for (const [itemId, i, result] of ready) yield outcome<O>(itemId, i, result);
      if (pending.size === 0) continue;
      const read = (await guard(
        reader.xread("COUNT", 1000, "BLOCK", 200, "STREAMS", k.results(id), lastId),
      )) as [string, [string, string[]][]][] | null;
      const entries = read?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        if (sent !== undefined && Date.now() - checkedJobs >= CHECK_JOBS) {
          for (const item of await guard(lostItems(client, queue, sent))) {
            items.push(item);
            seal();
          }
          await flush();
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
        const i = pending.get(itemId);
        if (i === undefined) {
          // A duplicate (the job ran twice: at-least-once), or, attached, an input not enqueued again yet.
          if (attached && itemId !== "" && early.size < EARLY_MAX)
            early.set(itemId, fields[3] as string);
          continue;
        }
        pending.delete(itemId);
        sent?.delete(itemId);
        reported++;
        yield outcome<O>(itemId, i, fields[3] as string);
      }
      await guard(
        client
          .multi()
          .xdel(k.results(id), ...seen)
          .hincrby(k.run(id), "done", reported)
          .exec(),
      );
    }
    complete = true;
  } finally {
    if (!inputDone) await closeInput(iterator);
    await cleanup(client, queue, k, id, complete, lost());
    reader.disconnect();
    client.disconnect();
  }
}

/** How often a producer says it is alive (ms), and how long that lasts. */
const BEAT = 1000;
const BEAT_TTL = 5000;
/** Results kept for inputs not enqueued again yet, when attached. */
const EARLY_MAX = 100_000;

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

/** How long an attached producer waits for results before it looks for lost jobs (ms). */
const CHECK_JOBS = 2000;

/** The items whose BullMQ job no longer exists (`x<id>`, as enqueued with chunk 1). */
async function lostItems(
  client: Redis,
  queue: { toKey(type: string): string },
  sent: ReadonlyMap<string, WireItem>,
): Promise<WireItem[]> {
  const items = [...sent.values()];
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
    if (ended(client)) throw unavailable(redis, "producer", error);
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

const TICK = Symbol("tick");

/**
 * The next input. Jobs are sent in batches, but a slow async input must not
 * hold back those already collected: if `next()` has not settled by the next
 * macrotask, `flush` sends them first.
 */
async function nextInput<I>(
  iterator: Iterator<I> | AsyncIterator<I>,
  collected: boolean,
  flush: () => Promise<void>,
): Promise<IteratorResult<I>> {
  const step = iterator.next();
  if (!collected || !(step instanceof Promise)) return step;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = new Promise<typeof TICK>((resolve) => {
    timer = setTimeout(() => resolve(TICK), 0);
  });
  const first = await Promise.race([step, tick]);
  clearTimeout(timer);
  if (first !== TICK) return first;
  await flush();
  return step;
}

async function closeInput(iterator: Iterator<unknown> | AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The run's own error, if any, wins.
  }
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
    const leases: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await client.scan(cursor, "MATCH", k.leases(id), "COUNT", 1000);
      cursor = next;
      leases.push(...found);
    } while (cursor !== "0");
    await client.del(k.run(id), k.results(id), k.producer(id), ...leases);
  } catch {
    // Cleanup is best effort: the run's own outcome or error matters more.
  } finally {
    await queue.close().catch(() => {});
  }
}
