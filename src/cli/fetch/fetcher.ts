/**
 * The engine of `aiokit fetch`: the input as a lazy stream, requests run
 * `concurrency` at a time under aiokit's limits (`stream(...).forEach(fn, {
 * concurrency })`, a keyed limiter per host), each result written as it
 * arrives. Nothing is lost: every request that starts ends as exactly one
 * output record, even when interrupted.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { type KeyedLimit, keyedLimiter, type RetryOptions, stream } from "../../index.js";
import { Histogram } from "./histogram.js";
import type { BadLine, FetchRequest } from "./input.js";
import type { FetchOptions } from "./options.js";
import { type LineSet, NdjsonWriter, type ResultRecord, repairAndScan } from "./output.js";
import { ensureDir } from "./preflight.js";
import { Requester, retryOptions } from "./requester.js";
import { RequestSource } from "./source.js";

export interface FetchStats {
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly inFlight: number;
  /** The last input line read so far. */
  readonly linesRead: number;
  readonly byStatus: ReadonlyMap<string, number>;
  readonly latency: Histogram;
}

export interface FetchRun {
  /** First Ctrl-C: stop taking new requests; the ones in flight finish. */
  readonly drain: AbortSignal;
  /** Second Ctrl-C: abort the requests in flight (each is recorded as cancelled). */
  readonly abort: AbortSignal;
  readonly input: AsyncIterable<string | Uint8Array>;
  /** Called when `--resume` cut a partial last line. */
  readonly onRepair?: (bytes: number, records: number) => void;
}

/** The counts a run keeps as it goes (local or on many machines). */
export interface MutableStats {
  ok: number;
  failed: number;
  skipped: number;
  inFlight: number;
  linesRead: number;
  readonly byStatus: Map<string, number>;
  readonly latency: Histogram;
}

/** Zero counts. */
export function createStats(): MutableStats {
  return {
    ok: 0,
    failed: 0,
    skipped: 0,
    inFlight: 0,
    linesRead: 0,
    byStatus: new Map<string, number>(),
    latency: new Histogram(),
  };
}

/** Counts one record: by status when answered, else as an error (or cancelled, or bad input). */
export function tally(stats: MutableStats, record: ResultRecord): void {
  if (record.input !== undefined) count(stats, "bad input", false);
  else if (record.error === undefined) {
    count(stats, String(record.status), true);
    if (record.ms !== undefined) stats.latency.record(record.ms);
  } else count(stats, record.error === "cancelled" ? "cancelled" : "error", false);
}

function count(stats: MutableStats, key: string, ok: boolean): void {
  if (ok) stats.ok++;
  else stats.failed++;
  stats.byStatus.set(key, (stats.byStatus.get(key) ?? 0) + 1);
}

/** The record of a bad input line: its line number, the text and what is wrong. */
export function badLineRecord(item: BadLine): ResultRecord {
  return { line: item.line, url: "", input: item.input, error: item.error };
}

/** With --resume: the lines already done, after cutting a partial last line (undefined without --resume). */
export async function resumeScan(
  options: FetchOptions,
  onRepair: ((bytes: number, records: number) => void) | undefined,
): Promise<LineSet | undefined> {
  const output = options.output;
  if (!options.resume || output === undefined) return undefined;
  const state = await repairAndScan(output);
  if (state.repairedBytes > 0) onRepair?.(state.repairedBytes, state.records);
  return state.done;
}

export class Fetcher {
  readonly #options: FetchOptions;
  readonly #requester: Requester;
  readonly #stats: MutableStats = createStats();

  /** `dispatcher` replaces undici's Agent (tests use one that answers in memory). */
  constructor(options: FetchOptions, dispatcher?: Dispatcher) {
    this.#options = options;
    this.#requester = new Requester(options, dispatcher);
  }

  get stats(): FetchStats {
    return this.#stats;
  }

  /**
   * Runs the whole job; resolves when every request started has its record
   * written. The first Ctrl-C (`drain`) ends the input: nothing new starts,
   * the requests in flight finish; the second (`abort`) cancels them.
   */
  async run(run: FetchRun): Promise<void> {
    const options = this.#options;
    const done = await resumeScan(options, run.onRepair);
    if (options.save !== undefined) await ensureDir(options.save);
    const job = new Job(this.#options, this.#stats, this.#requester, run);
    try {
      const source = new RequestSource(run.input, done, run.drain, this.#stats);
      await stream(source).forEach(job.handle, { concurrency: job.concurrency });
    } finally {
      await job.close();
      await this.#requester.close();
    }
  }
}

/** One run's output, limits and bookkeeping: what each input line goes through. */
class Job {
  /** Calls of `handle` at once: with --per-host, twice the concurrency (see below). */
  readonly concurrency: number;
  readonly #stats: MutableStats;
  readonly #requester: Requester;
  readonly #out: NdjsonWriter;
  readonly #drain: AbortSignal;
  /** Ends the requests: on the second Ctrl-C, or when the output fails (no use going on). */
  readonly #cancel = new AbortController();
  readonly #unlink: () => void;
  readonly #retry: RetryOptions;
  readonly #perHost: KeyedLimit<string> | undefined;

  constructor(options: FetchOptions, stats: MutableStats, requester: Requester, run: FetchRun) {
    this.#stats = stats;
    this.#requester = requester;
    // A stop gives up on an output still opening (a FIFO nobody reads): see NdjsonWriter.open.
    this.#out = NdjsonWriter.open(options.output, (error) => this.#cancel.abort(error), run.drain);
    this.#drain = run.drain;
    this.#unlink = follow(run.abort, this.#cancel);
    this.#retry = retryOptions(options.retries, this.#cancel.signal);
    // With --per-host, requests for a busy host wait in the keyed limiter
    // while others run: twice as many calls as requests may run at once.
    this.#perHost =
      options.perHost === undefined
        ? undefined
        : keyedLimiter({ perKey: options.perHost, concurrency: options.concurrency });
    this.concurrency = options.concurrency * (this.#perHost === undefined ? 1 : 2);
  }

  /** One input line: its request and its record (a promise while the output is behind). */
  readonly handle = (item: FetchRequest | BadLine): Promise<void> | undefined => {
    if (item.kind === "bad") {
      const record = badLineRecord(item);
      tally(this.#stats, record);
      return this.#write(record);
    }
    this.#stats.inFlight++;
    const perHost = this.#perHost;
    if (perHost === undefined) return this.#requester.fetch(item, this.#retry, this.#written);
    // Queued behind the limits, a request leaves on Ctrl-C without a record
    // (it never started, so --resume will do it); once started it finishes.
    return perHost(item.url.host, () => this.#requester.fetch(item, this.#retry, identity), {
      signal: this.#drain,
    }).then(this.#written, this.#leftQueue);
  };

  readonly #written = (record: ResultRecord): Promise<void> | undefined => {
    this.#stats.inFlight--;
    tally(this.#stats, record);
    return this.#write(record);
  };

  readonly #leftQueue = (error: unknown): undefined => {
    this.#stats.inFlight--;
    if (this.#drain.aborted && error === this.#drain.reason) return undefined;
    throw error;
  };

  #write(record: ResultRecord): Promise<void> | undefined {
    try {
      return this.#out.write(record);
    } catch (error) {
      this.#cancel.abort(error);
      throw error;
    }
  }

  /** Flushes and closes the output. */
  async close(): Promise<void> {
    this.#unlink();
    await this.#out.close();
  }
}

function identity<T>(value: T): T {
  return value;
}

/** Opens the input: a file path, or "-" for stdin. */
export function openInput(path: string): Readable {
  return path === "-" ? process.stdin : createReadStream(path);
}

/** Aborts `controller` when `parent` aborts (at once if it has); returns the unfollow function. */
function follow(parent: AbortSignal, controller: AbortController): () => void {
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener("abort", onAbort, { once: true });
  return () => parent.removeEventListener("abort", onAbort);
}
