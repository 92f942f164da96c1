import type { RedisOptions as BullRedisOptions, Job } from "bullmq";
import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import { CancelledError, type Limit, limiter, type RetryOptions, sleep } from "../index.js";
import { attempt } from "./attempt.js";
import { bullmq } from "./deps.js";
import type { WireItem } from "./feeder.js";
import {
  type Connection,
  checkVersion,
  connect,
  connectionLost,
  ended,
  errorToData,
  keys,
  type RedisUnavailableError,
  redisOptions,
  unavailable,
} from "./redis.js";
import { expectName, type TaskDefinition } from "./task.js";

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Where Redis is: a `redis://host:port/db` URL or ioredis options. */
  readonly connection: Connection;
  /** Most inputs this process runs at once, over every run it serves (default 10). */
  readonly concurrency?: number | undefined;
  /** Aborting it stops the worker gently: no new jobs, the running ones finish, then `runWorker` resolves. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Aborting it stops the worker at once (the "second Ctrl-C"; an
   * `AbortSignal` aborts only once, so this is a second signal): the running
   * jobs' signals abort and the jobs go back to the queue for another worker.
   */
  readonly cancelSignal?: AbortSignal | undefined;
  /** How long a job's lock lasts without renewal, in ms (BullMQ's, default 30,000): a crashed worker's jobs come back after about this long. */
  readonly lockDuration?: number | undefined;
  /** How often this worker looks for jobs whose lock expired, in ms (BullMQ's, default 30,000). */
  readonly stalledInterval?: number | undefined;
}

// Any task: its input type does not matter to the worker, which gets JSON.
type AnyTask = TaskDefinition<never, unknown>;

interface Served {
  readonly worker: { close(force?: boolean): Promise<void> };
  readonly cancel: AbortController;
  readonly closed: Promise<void>;
}

const POLL = 250; // ms between looks at the runs: bounds how fast a cancel is seen

/**
 * Serves every active run of queue `name` whose task is in `tasks`, until
 * `signal` aborts: resolves once the running jobs are done, or, when
 * `cancelSignal` aborts, handed back to the queue for another worker. A run's cancellation reaches its
 * running jobs here within a second. Rejects with a `RedisUnavailableError`
 * when Redis goes away and does not come back, for any of its connections
 * (its own and its BullMQ workers').
 *
 * Crash recovery is BullMQ's: a job whose worker died is taken again by
 * another worker after about `lockDuration` plus one or two
 * `stalledInterval`s, so it may run twice (at-least-once; the producer
 * reports each input once).
 *
 * @example
 * ```ts
 * import { runWorker } from "aiokit/bullmq";
 * // fetchPage = defineTask("fetchPage", …), from the module the producer imports too
 * const stop = new AbortController();
 * const cancel = new AbortController();
 * process.on("SIGTERM", () => (stop.signal.aborted ? cancel.abort() : stop.abort())); // twice: hard
 * await runWorker("crawl", [fetchPage], {
 *   connection: "redis://127.0.0.1:6379",
 *   concurrency: 20,
 *   signal: stop.signal,
 *   cancelSignal: cancel.signal,
 * });
 * ```
 */
export async function runWorker(
  name: string,
  tasks: readonly AnyTask[],
  options: WorkerOptions,
): Promise<void> {
  expectName("the queue name", name);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Expected runWorker options to be an object like { connection }, got ${describe(options)}`,
    );
  }
  if (!Array.isArray(tasks) || tasks.length === 0) {
    throw new TypeError(
      `Expected \`tasks\` to be a non-empty array of defineTask()s, got ${describe(tasks)}`,
    );
  }
  const concurrency = options.concurrency ?? 10;
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true });
  const lockDuration = options.lockDuration ?? 30_000;
  expectNumber("`lockDuration`", lockDuration, { min: 100, integer: true });
  const stalledInterval = options.stalledInterval ?? 30_000;
  expectNumber("`stalledInterval`", stalledInterval, { min: 100, integer: true });
  expectSignal(options.signal);
  expectSignal(options.cancelSignal);
  const redis = redisOptions(options.connection);
  const byName = new Map<string, AnyTask>(tasks.map((t) => [t.name, t]));
  const k = keys(name);
  const client = connect(redis, "worker");
  const limit = limiter(concurrency);
  const served = new Map<string, Served>();
  const ignored = new Set<string>(); // runs of tasks this worker does not have
  const stop = new AbortController();
  const hard = new AbortController();
  let lost: RedisUnavailableError | undefined; // a BullMQ worker's own connection gave up
  const onStop = (): void => stop.abort();
  const onCancel = (): void => {
    hard.abort(new CancelledError("The worker was stopped"));
    stop.abort();
  };
  options.signal?.addEventListener("abort", onStop);
  options.cancelSignal?.addEventListener("abort", onCancel);
  if (options.signal?.aborted) onStop();
  if (options.cancelSignal?.aborted) onCancel();

  const serve = (runId: string, meta: Record<string, string>): void => {
    const task = byName.get(meta.task ?? "");
    if (task === undefined) {
      ignored.add(runId);
      return;
    }
    const run: Run = {
      id: runId,
      task,
      retry: JSON.parse(meta.retry ?? "{}") as RetryOptions,
      cancel: new AbortController(),
    };
    const worker = new bullmq.Worker(
      k.queue(runId),
      (job: Job<{ items: WireItem[] }>, token?: string) =>
        processJob(job, token, run, { client, k, limit, hard: hard.signal }),
      {
        connection: redis as BullRedisOptions,
        concurrency,
        lockDuration,
        stalledInterval,
        maxStalledCount: 1000, // a crash must never fail the job: it runs again
        drainDelay: 1,
      },
    );
    worker.on("error", () => {}); // Redis errors surface through `client`
    // But not when the BullMQ worker's own connection gives up before
    // `client` does: it then fetches no more jobs, and says nothing. Fail
    // instead of idling, as for a lost `client`.
    void worker.getBackend().client.then(
      (connection) =>
        connection.once("end", () => {
          if (stop.signal.aborted || served.get(runId)?.worker !== worker) return;
          lost ??= unavailable(redis, "worker");
          stop.abort();
        }),
      () => {},
    );
    served.set(runId, { worker, cancel: run.cancel, closed: Promise.resolve() });
  };

  const retire = (runId: string, force: boolean): void => {
    const s = served.get(runId);
    if (s === undefined) return;
    served.delete(runId);
    if (force) s.cancel.abort(new CancelledError("The run was cancelled"));
    // A worker still open when the producer cleaned up may have written
    // BullMQ's meta key again: the last one to close removes it.
    const prefix = `bull:${k.queue(runId)}`;
    void s.worker
      .close(force)
      .then(() => client.del(`${prefix}:meta`, `${prefix}:stalled-check`))
      .catch(() => {});
  };

  try {
    await checkVersion(client, redis).catch((error: unknown) => {
      throw connectionLost(error, client) ? unavailable(redis, "worker", error) : error;
    });
    while (!stop.signal.aborted) {
      if (ended(client)) throw unavailable(redis, "worker");
      let runs: string[];
      try {
        runs = await client.smembers(k.runs);
        for (const runId of runs) {
          if (served.has(runId) || ignored.has(runId)) continue;
          const meta = await client.hgetall(k.run(runId));
          if (meta.state === "running") serve(runId, meta);
        }
      } catch (error) {
        if (connectionLost(error, client)) throw unavailable(redis, "worker", error);
        throw error;
      }
      const active = new Set(runs);
      for (const runId of served.keys()) if (!active.has(runId)) retire(runId, true);
      for (const runId of ignored) if (!active.has(runId)) ignored.delete(runId);
      await sleep(POLL, { signal: stop.signal }).catch(() => {});
    }
    if (lost !== undefined) throw lost;
    // Stop: no new jobs; running ones finish, or on a second abort go back.
    await Promise.all(
      [...served.values()].map((s) => {
        const closing = s.worker.close();
        return closing.catch(() => {});
      }),
    );
    served.clear();
  } catch (error) {
    hard.abort(error);
    await Promise.all(
      [...served.values()].map((s) => {
        s.cancel.abort(error);
        return Promise.race([s.worker.close(true).catch(() => {}), sleep(1000)]);
      }),
    );
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onStop);
    options.cancelSignal?.removeEventListener("abort", onCancel);
    client.disconnect();
  }
}

interface Run {
  readonly id: string;
  readonly task: AnyTask;
  readonly retry: RetryOptions;
  readonly cancel: AbortController;
}

interface Shared {
  readonly client: ReturnType<typeof connect>;
  readonly k: ReturnType<typeof keys>;
  readonly limit: Limit;
  readonly hard: AbortSignal;
}

/** Runs a job's inputs one after another and adds each outcome to the run's results stream. */
async function processJob(
  job: Job<{ items: WireItem[] }>,
  token: string | undefined,
  run: Run,
  shared: Shared,
): Promise<number> {
  const { client, k, hard } = shared;
  const signal = AbortSignal.any([run.cancel.signal, hard]);
  // Stopped hard: back to the queue at once, for another worker.
  const back = async (): Promise<never> => {
    await job.moveToDelayed(Date.now(), token);
    throw new bullmq.DelayedError();
  };
  for (const item of job.data.items) {
    if (run.cancel.signal.aborted) throw run.cancel.signal.reason;
    if (hard.aborted) return back();
    const settled = await shared.limit(() =>
      attempt(run.task, item.input as never, item.id, run.retry, signal),
    );
    if (run.cancel.signal.aborted) throw run.cancel.signal.reason;
    if (hard.aborted) return back();
    const r =
      settled.status === "fulfilled"
        ? { s: settled.status, v: settled.value, a: settled.attempts }
        : { s: settled.status, e: errorToData(settled.reason), a: settled.attempts };
    await client.xadd(k.results(run.id), "NOMKSTREAM", "*", "id", item.id, "r", JSON.stringify(r));
  }
  return 0;
}
