/**
 * `aiokit fetch --queue`: the same run as a local one, its requests made by
 * `aiokit worker`s through aiokit/bullmq. The input is read lazily (the
 * queue's window bounds what is enqueued), each result is written as it
 * arrives, in the local run's schema, with the same stats. Delivery is
 * at-least-once; each input line's id (its line number and URL) makes the
 * output exactly one record per line, and lets `--resume` attach to the run
 * a killed producer left, without enqueueing twice what is still queued.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";
import { distributedQueue, listRuns, type RunOptions } from "../../bullmq/index.js";
import { CancelledError, sleep } from "../../index.js";
import { windowOf } from "../queue/shared-rate.js";
import {
  FETCH_QUEUE,
  fetchTask,
  requestId,
  toWire,
  type WireRequest,
  wireOptions,
} from "./fetch-task.js";
import {
  badLineRecord,
  createStats,
  type FetchRun,
  type FetchStats,
  resumeScan,
  tally,
} from "./fetcher.js";
import type { FetchOptions } from "./options.js";
import { NdjsonWriter, type ResultRecord } from "./output.js";
import { PreflightError } from "./preflight.js";
import { RequestSource } from "./source.js";

export class QueueFetcher {
  readonly #options: FetchOptions;
  readonly #queue: string;
  readonly #stats = createStats();

  constructor(options: FetchOptions, queue: string) {
    this.#options = options;
    this.#queue = queue;
  }

  get stats(): FetchStats {
    return this.#stats;
  }

  /**
   * Runs the whole job on the workers; resolves when every input line has its
   * record, or, after the second Ctrl-C (`abort`), once the run is cancelled
   * everywhere (the lines without a record are left to `--resume`).
   */
  async run(run: FetchRun): Promise<void> {
    const options = this.#options;
    const stats = this.#stats;
    const done = await resumeScan(options, run.onRepair);
    const label = options.output === undefined ? "" : `${hostname()}:${resolve(options.output)}`;
    const left = done === undefined || label === "" ? undefined : await this.#leftRun(label);
    // Chosen here, not by the queue: it also keys --rate-per-host's windows in Redis.
    const runId = left ?? randomHex();
    if (left !== undefined && !options.quiet) {
      process.stderr.write(`Resume: attaching to run ${runId}, left by a producer that stopped\n`);
    }
    const outFailed = new AbortController();
    const out = NdjsonWriter.open(options.output, (error) => outFailed.abort(error));
    const signal = AbortSignal.any([run.abort, outFailed.signal]);
    const pending = new Map<string, { line: number; url: string }>();
    const o = wireOptions(options, runId);
    const source = new RequestSource(run.input, done, run.drain, stats);
    async function* requests(): AsyncGenerator<WireRequest> {
      for await (const item of source) {
        if (item.kind === "bad") {
          const record = badLineRecord(item);
          tally(stats, record);
          await out.write(record);
          continue;
        }
        const wire = toWire(item, o);
        pending.set(requestId(wire.line, wire.url), { line: wire.line, url: wire.url });
        stats.inFlight++;
        yield wire;
      }
    }
    const c = options.concurrency;
    const runOptions: RunOptions<WireRequest> = {
      concurrency: c,
      rate: options.rate === undefined || options.ratePerHost ? undefined : windowOf(options.rate),
      key: options.perHost === undefined ? undefined : (wire) => new URL(wire.url).host,
      perKey: options.perHost,
      id: (wire) => requestId(wire.line, wire.url),
      // Enough queued ahead to keep every worker busy, few enough that Redis stays small.
      window: Math.min(1000, Math.max(100, 4 * c)),
      runId,
      label,
      signal,
    };
    const queue = distributedQueue(FETCH_QUEUE, { connection: this.#queue });
    try {
      for await (const outcome of queue.run(requests(), fetchTask, runOptions)) {
        const request = pending.get(outcome.id);
        pending.delete(outcome.id);
        stats.inFlight--;
        const record: ResultRecord =
          outcome.status === "fulfilled"
            ? outcome.value
            : {
                line: request?.line ?? 0,
                url: request?.url ?? "",
                error: messageOf(outcome.reason),
              };
        tally(stats, record);
        const wait = out.write(record);
        if (wait !== undefined) await wait;
      }
    } catch (error) {
      // The second Ctrl-C: the run is cancelled everywhere; what has no record is --resume's.
      if (!(run.abort.aborted && error === run.abort.reason))
        throw outFailed.signal.reason ?? error;
    } finally {
      stats.inFlight = 0;
      source.return().catch(() => undefined);
      await out.close();
    }
  }

  /**
   * The run a killed producer left writing to this output, to attach to; its
   * producer's claim lapses a few seconds after it died.
   */
  async #leftRun(label: string): Promise<string | undefined> {
    const deadline = Date.now() + 8000;
    for (;;) {
      const left = (await listRuns(FETCH_QUEUE, { connection: this.#queue })).find(
        (r) => r.label === label && r.task === fetchTask.name,
      );
      if (left === undefined || !left.producer) return left?.id;
      if (Date.now() > deadline) {
        throw new PreflightError(
          `Cannot resume: run ${left.id} is still producing ${this.#options.output}; stop that aiokit fetch first (or aiokit cancel ${this.#queue} ${left.id})`,
        );
      }
      await sleep(250);
    }
  }
}

function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

function messageOf(reason: unknown): string {
  if (reason instanceof CancelledError) return "cancelled";
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
}
