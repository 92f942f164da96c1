/**
 * One request of `aiokit fetch`, start to finish: the attempts (retried with
 * backoff, honouring Retry-After, under the rate limit), each attempt's
 * redirects, and the result record. Every outcome is a record: an answer of
 * any status, or the error that ended it.
 */
import { createHash } from "node:crypto";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, type Dispatcher } from "undici";
import {
  CancelledError,
  isCancellation,
  now,
  RateLimiter,
  type RetryOptions,
  retry,
  TimeoutError,
} from "../../index.js";
import { type Exchange, type ExchangeOptions, exchange } from "./exchange.js";
import type { FetchRequest } from "./input.js";
import type { FetchOptions } from "./options.js";
import type { ResultRecord } from "./output.js";
import { type Hop, nextHop } from "./redirect.js";

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

/**
 * undici refused the request before sending it (an invalid argument, an
 * unsupported feature): bad input, which no retry can change.
 */
export function isRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "UND_ERR_INVALID_ARG" || code === "UND_ERR_NOT_SUPPORTED";
}

/**
 * The retry options of one request, the same for a local run and a worker:
 * exponential backoff from 250 ms to 30 s, no retry of a cancellation or of
 * a request undici refused (bad input).
 */
export function retryOptions(retries: number, signal: AbortSignal): RetryOptions {
  return {
    retries,
    minDelay: 250,
    maxDelay: 30_000,
    signal,
    retryIf: (error) => !isCancellation(error) && !isRefused(error),
  };
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

/**
 * What an attempt waits on before it starts, under --rate: aiokit's
 * RateLimiter here, or (`aiokit worker` with --rate-per-host) one that every
 * worker shares through Redis.
 */
export interface StartLimit {
  tryAcquire(): boolean;
  acquire(options: { signal: AbortSignal }): Promise<void>;
}

/** Makes the StartLimit of --rate (starts per second), per host when `host` is given. */
export type StartLimitFactory = (perSecond: number, host: string | undefined) => StartLimit;

export class Requester {
  readonly #options: FetchOptions;
  readonly #dispatcher: Dispatcher;
  readonly #makeRate: StartLimitFactory;
  readonly #rates = new Map<string, StartLimit>();
  readonly #globalRate: StartLimit | undefined;

  /**
   * `dispatcher` replaces undici's Agent (tests use one that answers in
   * memory); `limits` the rate limiters (a worker's are shared through Redis).
   */
  constructor(
    options: FetchOptions,
    dispatcher?: Dispatcher,
    limits: StartLimitFactory = makeRate,
  ) {
    this.#options = options;
    this.#makeRate = limits;
    this.#dispatcher =
      dispatcher ??
      new Agent({
        connections: options.perHost ?? options.concurrency,
        pipelining: 1,
        // A request waits for its connection before undici lets it be aborted:
        // connecting must not outlast the time limit of the attempt.
        connect: { timeout: Math.min(options.timeout, 10_000) },
      });
    if (options.rate !== undefined && !options.ratePerHost)
      this.#globalRate = limits(options.rate, undefined);
  }

  /** Closes the connections (after the run). */
  close(): Promise<void> {
    return this.#dispatcher.close().catch(() => undefined);
  }

  /**
   * Every attempt of one request, with retries and the rate limit; always
   * ends in a record (an error is recorded, not thrown, and `attempts` is
   * set), which goes on to `next` in the same step: the caller's bookkeeping
   * costs no extra promise per request.
   */
  fetch<R>(
    item: FetchRequest,
    retryOptions: RetryOptions,
    next: (record: ResultRecord) => R,
  ): Promise<Awaited<R>> {
    let attempts = 0;
    const rate = this.#rateFor(item.url.host);
    const attempt = (n: number, signal: AbortSignal): Promise<ResultRecord> => {
      attempts = n;
      if (rate === undefined || rate.tryAcquire()) return this.#fetchOnce(item, n, signal);
      return rate.acquire({ signal }).then(() => this.#fetchOnce(item, n, signal));
    };
    return retry(attempt, retryOptions).then(
      (record) => {
        record.attempts = attempts;
        return next(record);
      },
      (error: unknown) => {
        const record = this.#errorRecord(item, error, retryOptions.signal);
        record.attempts = attempts;
        return next(record);
      },
    ) as Promise<Awaited<R>>;
  }

  #errorRecord(item: FetchRequest, error: unknown, signal: AbortSignal | undefined): ResultRecord {
    const last = error instanceof AggregateError ? error.errors.at(-1) : error;
    const cancelled = signal?.aborted === true && last === signal.reason;
    if (last instanceof RetryableStatusError) return last.record; // retries used up: the last response is the result
    const base: ResultRecord = {
      line: item.line,
      url: item.url.href,
      method: item.method ?? this.#options.method,
    };
    if (cancelled || isCancellation(last) || last instanceof CancelledError)
      return { ...base, error: "cancelled" };
    if (last instanceof TimeoutError)
      return { ...base, error: `timeout after ${this.#options.timeout} ms` };
    const cause = (last as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    const message = last instanceof Error ? last.message : String(last);
    return { ...base, error: cause?.code !== undefined ? `${message} (${cause.code})` : message };
  }

  /**
   * One attempt: the request and its redirects, within one time limit.
   * Rejects with a RetryableStatusError for a status worth another attempt
   * while attempts are left. (Promise chaining, not async: most attempts are
   * one exchange, and this runs once per request.)
   */
  #fetchOnce(item: FetchRequest, attempt: number, signal: AbortSignal): Promise<ResultRecord> {
    const options = this.#options;
    const started = now();
    const limits: ExchangeOptions = {
      deadline: started + options.timeout,
      timeout: options.timeout,
      signal,
      keep: options.save === undefined ? options.maxBody : Number.POSITIVE_INFINITY,
    };
    const first: Hop = {
      url: item.url,
      method: item.method ?? options.method,
      headers:
        item.headers === undefined ? options.headers : { ...options.headers, ...item.headers },
      body: item.body,
    };
    return exchange(this.#dispatcher, toDispatch(first), limits).then((response) => {
      const next =
        options.maxRedirects > 0
          ? nextHop(first, response.status, response.headers.location)
          : undefined;
      if (next === undefined && options.save === undefined) {
        return this.#record(item, attempt, started, first, 0, response);
      }
      return this.#redirectAndSave(item, attempt, started, first, next, response, limits);
    });
  }

  /** The rest of an attempt when it is not one exchange with the body inline. */
  async #redirectAndSave(
    item: FetchRequest,
    attempt: number,
    started: number,
    first: Hop,
    next: Hop | undefined,
    response: Exchange,
    limits: ExchangeOptions,
  ): Promise<ResultRecord> {
    let hop = first;
    let redirects = 0;
    // Requests made (method and URL): asking the same again is a loop, as no cookies are kept.
    const visited = next === undefined ? undefined : new Set([hopKey(first)]);
    while (next !== undefined) {
      hop = next;
      redirects++;
      // A redirect's own body is not the result: the next exchange starts afresh.
      response = await exchange(this.#dispatcher, toDispatch(hop), limits);
      next = nextHop(hop, response.status, response.headers.location);
      const loop = next !== undefined && visited?.has(hopKey(next)) === true;
      if (next !== undefined && (loop || redirects >= this.#options.maxRedirects)) {
        // Still redirected when we stop following: no final answer, a failure.
        const record = this.#record(item, attempt, started, hop, redirects, response);
        record.ok = false;
        record.error = loop
          ? `redirect loop: ${hop.url.href} redirects back to ${next.url.href}`
          : `too many redirects: still redirected after ${redirects} (--max-redirects ${this.#options.maxRedirects})`;
        return record;
      }
      visited?.add(hopKey(hop));
    }
    const save = this.#options.save;
    if (save === undefined) return this.#record(item, attempt, started, hop, redirects, response);
    const hash = createHash("sha256");
    for (const chunk of response.chunks) hash.update(chunk);
    const sha256 = hash.digest("hex");
    const file = await saveBody(save, sha256, response.chunks);
    return this.#record(item, attempt, started, hop, redirects, response, { file, sha256 });
  }

  /** The record of a final response; throws a RetryableStatusError to have it retried. */
  #record(
    item: FetchRequest,
    attempt: number,
    started: number,
    hop: Hop,
    redirects: number,
    response: Exchange,
    saved?: { file: string; sha256: string },
  ): ResultRecord {
    const options = this.#options;
    const status = response.status;
    const kept: Record<string, string> = {};
    for (const name of options.keepHeaders) {
      const value = response.headers[name];
      if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const record: ResultRecord = {
      line: item.line,
      url: item.url.href,
      method: hop.method,
      status,
      ok: status >= 200 && status < 300,
      headers: kept,
      ms: round(now() - started),
      bytes: response.bytes,
    };
    if (redirects > 0) {
      record.redirects = redirects;
      record.finalUrl = hop.url.href;
    }
    if (saved !== undefined) {
      record.file = saved.file;
      record.sha256 = saved.sha256;
    } else {
      record.body = text(response.chunks);
      if (response.bytes > response.keptBytes) record.truncated = true;
    }
    if (isRetryableStatus(status) && attempt <= options.retries) {
      const retryAfter = parseRetryAfter(response.headers["retry-after"]);
      throw new RetryableStatusError(status, retryAfter, record);
    }
    return record;
  }

  #rateFor(host: string): StartLimit | undefined {
    if (this.#options.rate === undefined) return undefined;
    if (!this.#options.ratePerHost) return this.#globalRate;
    let limiter = this.#rates.get(host);
    if (limiter === undefined) {
      limiter = this.#makeRate(this.#options.rate, host);
      this.#rates.set(host, limiter);
    }
    return limiter;
  }
}

function hopKey(hop: Hop): string {
  return `${hop.method} ${hop.url.href}`;
}

function toDispatch(hop: Hop): Dispatcher.DispatchOptions {
  const { url } = hop;
  return {
    origin: url.origin,
    path: url.search === "" ? url.pathname : `${url.pathname}${url.search}`,
    method: hop.method as Dispatcher.HttpMethod,
    headers: hop.headers,
    body: hop.body ?? null,
  };
}

function text(chunks: readonly Buffer[]): string {
  if (chunks.length === 0) return "";
  if (chunks.length === 1) return (chunks[0] as Buffer).toString("utf8");
  return Buffer.concat(chunks).toString("utf8");
}

function makeRate(perSecond: number): RateLimiter {
  return perSecond >= 1
    ? new RateLimiter({ limit: Math.round(perSecond), interval: 1_000 })
    : new RateLimiter({ limit: 1, interval: Math.round(1_000 / perSecond) });
}

/** Writes a body once, by content (same body, same file), atomically (temp file + rename). */
async function saveBody(dir: string, sha256: string, chunks: readonly Buffer[]): Promise<string> {
  const path = join(dir, sha256);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, chunks);
  await rename(temp, path);
  return path;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
