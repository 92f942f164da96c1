/**
 * The engine of `aiokit fetch`: streams requests from the input, runs them
 * with aiokit's limits (overall and per host), rate limits and retries, and
 * writes each result as it arrives. Nothing is lost: every admitted request
 * ends as exactly one output record, even when interrupted.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, type Dispatcher, interceptors } from "undici";
import { WaitQueue } from "../../_internal/wait-queue.js";
import {
  CancelledError,
  isCancellation,
  keyedLimiter,
  RateLimiter,
  retry,
  TimeoutError,
  taskGroup,
  timeout,
} from "../../index.js";
import { Histogram } from "./histogram.js";
import { type FetchRequest, readRequests } from "./input.js";
import type { FetchOptions } from "./options.js";
import { type LineSet, NdjsonWriter, type ResultRecord, repairAndScan } from "./output.js";

/** An HTTP status worth retrying; carries the server's Retry-After as `retryAfter` (ms). */
export class RetryableStatusError extends Error {
  override readonly name = "RetryableStatusError";
  constructor(
    readonly status: number,
    readonly retryAfter: number | undefined,
    readonly record: ResultRecord,
  ) {
    super(`HTTP ${status}`);
  }
}

export interface FetchStats {
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly inFlight: number;
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

/** Retry statuses: 429 Too Many Requests, 408, and 5xx but 501 (not implemented won't change). */
function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501);
}

/** Parses Retry-After (seconds or an HTTP date) into ms; undefined when absent or invalid. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export class Fetcher {
  readonly #options: FetchOptions;
  readonly #dispatcher: Dispatcher;
  readonly #stats = {
    ok: 0,
    failed: 0,
    skipped: 0,
    inFlight: 0,
    byStatus: new Map<string, number>(),
    latency: new Histogram(),
  };
  readonly #rates = new Map<string, RateLimiter>();
  #globalRate: RateLimiter | undefined;

  constructor(options: FetchOptions) {
    this.#options = options;
    const agent = new Agent({ connections: options.perHost ?? options.concurrency, pipelining: 1 });
    this.#dispatcher =
      options.maxRedirects > 0
        ? agent.compose(interceptors.redirect({ maxRedirections: options.maxRedirects }))
        : agent;
    if (options.rate !== undefined && !options.ratePerHost)
      this.#globalRate = makeRate(options.rate);
  }

  get stats(): FetchStats {
    return this.#stats;
  }

  /** Runs the whole job; resolves when every admitted request has its record written. */
  async run(run: FetchRun): Promise<void> {
    const options = this.#options;
    let done: LineSet | undefined;
    if (options.resume && options.output !== undefined) {
      const state = await repairAndScan(options.output);
      done = state.done;
      if (state.repairedBytes > 0) run.onRepair?.(state.repairedBytes, state.records);
    }
    if (options.save !== undefined) await mkdir(options.save, { recursive: true });
    const out = NdjsonWriter.open(options.output);
    const limit = keyedLimiter({
      perKey: options.perHost ?? options.concurrency,
      concurrency: options.concurrency,
    });
    // Admission keeps the input flat in memory: at most 2 × concurrency requests read ahead.
    const admission = new Admission(options.concurrency * 2);
    try {
      await taskGroup(
        async (tg) => {
          for await (const item of readRequests(run.input)) {
            if (run.drain.aborted) break;
            if (done?.has(item.line)) {
              this.#stats.skipped++;
              continue;
            }
            if (item.kind === "bad") {
              this.#count("bad input", false);
              await out.write({ line: item.line, url: "", input: item.input, error: item.error });
              continue;
            }
            if (!(await admission.enter(run.drain))) break;
            this.#stats.inFlight++;
            tg.spawn(async () => {
              try {
                // Queued behind the limits, a request leaves on Ctrl-C without a record
                // (it never started, so --resume will do it); once started it finishes.
                const record = await limit(
                  item.url.host,
                  () => this.#fetchWithRetries(item, run.abort),
                  {
                    signal: run.drain,
                  },
                ).catch((error: unknown) => {
                  if (run.drain.aborted && error === run.drain.reason) return undefined;
                  throw error;
                });
                if (record !== undefined) await out.write(record);
              } finally {
                this.#stats.inFlight--;
                admission.leave();
              }
            });
          }
        },
        { name: "fetch" },
      );
    } finally {
      await out.close();
      await this.#dispatcher.close().catch(() => undefined);
    }
  }

  async #fetchWithRetries(item: FetchRequest, abort: AbortSignal): Promise<ResultRecord> {
    const options = this.#options;
    const rate = this.#rateFor(item.url.host);
    let attempts = 0;
    let record: ResultRecord;
    try {
      record = await retry(
        async (attempt, signal) => {
          attempts = attempt;
          await rate?.acquire({ signal });
          const result = await timeout(options.timeout, (s) => this.#fetchOnce(item, s), {
            signal,
          });
          if (
            result.status !== undefined &&
            isRetryableStatus(result.status) &&
            attempt <= options.retries
          ) {
            throw new RetryableStatusError(
              result.status,
              parseRetryAfter(result.headers?.["retry-after"]),
              result,
            );
          }
          return result;
        },
        {
          retries: options.retries,
          minDelay: 250,
          maxDelay: 30_000,
          signal: abort,
          retryIf: (error) => !isCancellation(error),
        },
      );
    } catch (error) {
      record = this.#errorRecord(item, error);
    }
    record.attempts = attempts;
    if (record.error === undefined) {
      this.#count(String(record.status), true);
      if (record.ms !== undefined) this.#stats.latency.record(record.ms);
    } else {
      this.#count(record.error === "cancelled" ? "cancelled" : "error", false);
    }
    return record;
  }

  #errorRecord(item: FetchRequest, error: unknown): ResultRecord {
    const last = error instanceof AggregateError ? error.errors.at(-1) : error;
    if (last instanceof RetryableStatusError) return last.record; // retries used up: the last response is the result
    const base: ResultRecord = {
      line: item.line,
      url: item.url.href,
      method: item.method ?? this.#options.method,
    };
    if (isCancellation(last) || last instanceof CancelledError)
      return { ...base, error: "cancelled" };
    if (last instanceof TimeoutError)
      return { ...base, error: `timeout after ${this.#options.timeout} ms` };
    const cause = (last as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    const message = last instanceof Error ? last.message : String(last);
    return { ...base, error: cause?.code !== undefined ? `${message} (${cause.code})` : message };
  }

  async #fetchOnce(item: FetchRequest, signal: AbortSignal): Promise<ResultRecord> {
    const options = this.#options;
    const method = item.method ?? options.method;
    const started = performance.now();
    const response = await this.#dispatcher.request({
      origin: item.url.origin,
      path: `${item.url.pathname}${item.url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers: { ...options.headers, ...item.headers },
      body: item.body ?? null,
      signal,
    });
    const hash = options.save !== undefined ? createHash("sha256") : undefined;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bytes = 0;
    const saved: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (hash !== undefined) {
        hash.update(chunk);
        saved.push(chunk);
      } else if (keptBytes < options.maxBody) {
        const part = chunk.subarray(0, options.maxBody - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
    }
    const ms = round(performance.now() - started);
    const headers: Record<string, string> = {};
    for (const name of options.keepHeaders) {
      const value = response.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const record: ResultRecord = {
      line: item.line,
      url: item.url.href,
      method,
      status: response.statusCode,
      ok: response.statusCode >= 200 && response.statusCode < 300,
      headers,
      ms,
      bytes,
    };
    if (hash !== undefined && options.save !== undefined) {
      const sha256 = hash.digest("hex");
      record.file = await saveBody(options.save, sha256, saved);
      record.sha256 = sha256;
    } else {
      record.body = Buffer.concat(kept).toString("utf8");
      if (bytes > keptBytes) (record as ResultRecord & { truncated?: boolean }).truncated = true;
    }
    return record;
  }

  #rateFor(host: string): RateLimiter | undefined {
    if (this.#options.rate === undefined) return undefined;
    if (!this.#options.ratePerHost) return this.#globalRate;
    let limiter = this.#rates.get(host);
    if (limiter === undefined) {
      limiter = makeRate(this.#options.rate);
      this.#rates.set(host, limiter);
    }
    return limiter;
  }

  #count(key: string, ok: boolean): void {
    if (ok) this.#stats.ok++;
    else this.#stats.failed++;
    this.#stats.byStatus.set(key, (this.#stats.byStatus.get(key) ?? 0) + 1);
  }
}

/** Opens the input: a file path, or "-" for stdin. */
export function openInput(path: string): AsyncIterable<string | Uint8Array> {
  return path === "-" ? process.stdin : createReadStream(path);
}

function makeRate(perSecond: number): RateLimiter {
  return perSecond >= 1
    ? new RateLimiter({ limit: Math.round(perSecond), interval: 1_000 })
    : new RateLimiter({ limit: 1, interval: Math.round(1_000 / perSecond) });
}

/** Writes a body once, by content (same body, same file), atomically (temp file + rename). */
async function saveBody(dir: string, sha256: string, chunks: Buffer[]): Promise<string> {
  const path = join(dir, sha256);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, chunks);
  await rename(temp, path);
  return path;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** A counting gate: `enter` waits while `limit` are inside; false when `signal` aborts first. */
class Admission {
  #inside = 0;
  readonly #waiters = new WaitQueue<void>();
  constructor(readonly limit: number) {}

  async enter(signal: AbortSignal): Promise<boolean> {
    if (this.#inside < this.limit) {
      this.#inside++;
      return true;
    }
    try {
      await this.#waiters.wait(signal);
      return true; // the leaver handed its place over
    } catch {
      return false;
    }
  }

  leave(): void {
    if (!this.#waiters.wakeOne(undefined)) this.#inside--;
  }
}
