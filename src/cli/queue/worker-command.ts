/** `aiokit worker`: serves every fetch run on a Redis, with the fetch task. */
import { Agent } from "undici";
import { RedisUnavailableError, RedisVersionError, runWorker } from "../../bullmq/index.js";
import { CancelledError } from "../../index.js";
import { FETCH_QUEUE, fetchTask, useWorkerResources } from "../fetch/fetch-task.js";
import { checkQueueUrl } from "../fetch/options.js";
import { PreflightError } from "../fetch/preflight.js";
import { styleFor } from "../style.js";
import { ExitCode, parseCommandLine, UsageError, wholeNumber } from "../usage.js";
import { checkRedis } from "./redis-check.js";
import { sharedRate, windowOf } from "./shared-rate.js";

export interface WorkerArgs {
  readonly url: string;
  readonly concurrency: number;
  readonly lockMs: number;
}

export function parseWorkerArgs(argv: readonly string[]): WorkerArgs | "help" {
  const { values, positionals } = parseCommandLine("worker", {
    args: argv,
    allowPositionals: true,
    options: {
      concurrency: { type: "string", short: "c" },
      "lock-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one REDIS_URL, got ${positionals.length} arguments`, "worker");
  }
  const url = positionals[0] as string;
  checkQueueUrl(url, "worker");
  return {
    url,
    concurrency: wholeNumber("worker", "--concurrency", values.concurrency, 64, 1),
    lockMs: wholeNumber("worker", "--lock-ms", values["lock-ms"], 30_000, 200),
  };
}

export async function workerCommand(args: WorkerArgs): Promise<number> {
  const stderr = process.stderr;
  const style = styleFor(stderr);
  try {
    await checkRedis(args.url);
  } catch (error) {
    if (!(error instanceof PreflightError)) throw error;
    stderr.write(`${style.red("aiokit worker:")} ${error.message}\n`);
    return ExitCode.usage;
  }
  const stop = new AbortController();
  const cancel = new AbortController();
  const onSignal = (): void => {
    if (!stop.signal.aborted) {
      stop.abort(new CancelledError("Interrupted"));
      stderr.write(
        `\n${style.yellow("Stopping:")} finishing the requests in flight (Ctrl-C again to hand them back to the queue)\n`,
      );
    } else cancel.abort(new CancelledError("Interrupted twice"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const agent = new Agent({
    connections: args.concurrency,
    pipelining: 1,
    connect: { timeout: 10_000 },
  });
  const { Redis } = await import("ioredis");
  // --rate-per-host's windows; gives up like aiokit/bullmq's clients when Redis is gone.
  const rates = new Redis(args.url, {
    retryStrategy: (times: number) => (times > 10 ? null : Math.min(times * 100, 500)),
    disconnectTimeout: 50,
  });
  rates.on("error", () => {});
  useWorkerResources(agent, (key) => (perSecond, host) => {
    const { limit, interval } = windowOf(perSecond);
    // A tenth more than the interval: requests reach the host a little later
    // or sooner than Redis admits them (a new connection takes longer), and
    // the host must still see no more than the limit in any sliding interval.
    const kept = Math.ceil(interval * 1.1);
    return sharedRate(rates, `aiokit:${FETCH_QUEUE}:rate:${key}:${host ?? ""}`, limit, kept);
  });
  stderr.write(
    `aiokit worker: serving fetch runs on ${args.url} (pid ${process.pid}, concurrency ${args.concurrency}, lock ${args.lockMs} ms); Ctrl-C to stop\n`,
  );
  try {
    await runWorker(FETCH_QUEUE, [fetchTask], {
      connection: args.url,
      concurrency: args.concurrency,
      // BullMQ renews a lock every lockDuration / 2 and looks for lapsed
      // ones every stalledInterval: a dead worker's jobs move on after ~1.5 × lock.
      lockDuration: args.lockMs,
      stalledInterval: Math.max(100, Math.round(args.lockMs / 2)),
      signal: stop.signal,
      cancelSignal: cancel.signal,
    });
    stderr.write("aiokit worker: stopped\n");
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof RedisUnavailableError || error instanceof RedisVersionError))
      throw error;
    stderr.write(`${style.red("aiokit worker failed:")} ${error.message}\n`);
    return ExitCode.failed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await agent.close().catch(() => undefined);
    rates.disconnect();
  }
}
