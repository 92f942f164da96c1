/**
 * The request→record step of `aiokit fetch` as a named task, so that a run
 * on many machines makes each request exactly as a local run does (the same
 * `Requester`: retries, redirects, --save, the record). The producer
 * (`fetch --queue`) and every `aiokit worker` import this module: a task is
 * found by name, a closure cannot cross machines.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { Agent, type Dispatcher } from "undici";
import { defineTask } from "../../bullmq/index.js";
import type { FetchRequest } from "./input.js";
import type { FetchOptions } from "./options.js";
import type { ResultRecord } from "./output.js";
import { Requester, retryOptions, type StartLimitFactory } from "./requester.js";

/** The queue name of fetch runs: every `aiokit worker` serves this one. */
export const FETCH_QUEUE = "aiokit-fetch";

/** The flags a request is made with, sent along with it (the limits stay with the queue). */
export type WireOptions = Pick<
  FetchOptions,
  "timeout" | "retries" | "method" | "headers" | "maxRedirects" | "save" | "keepHeaders" | "maxBody"
> & {
  /** --rate-per-host: starts per second per host, in Redis under `key` (the run's id) for every worker. */
  readonly hostRate?: { readonly key: string; readonly perSecond: number } | undefined;
};

/** One input line's request as it crosses to a worker (JSON). */
export interface WireRequest {
  readonly line: number;
  readonly url: string;
  readonly method?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
  readonly body?: string | undefined;
  readonly o: WireOptions;
}

/** The flags of `options` that travel with each request; `runId` keys --rate-per-host's windows. */
export function wireOptions(options: FetchOptions, runId: string): WireOptions {
  const { timeout, retries, method, headers, maxRedirects, save, keepHeaders, maxBody } = options;
  const hostRate =
    options.ratePerHost && options.rate !== undefined
      ? { key: runId, perSecond: options.rate }
      : undefined;
  return { timeout, retries, method, headers, maxRedirects, save, keepHeaders, maxBody, hostRate };
}

export function toWire(item: FetchRequest, o: WireOptions): WireRequest {
  return {
    line: item.line,
    url: item.url.href,
    method: item.method,
    headers: item.headers,
    body: item.body,
    o,
  };
}

/**
 * An input line's id: the same line with the same URL has the same id in
 * every run over the same input, so a restarted producer (`--resume`) finds
 * what is still queued, and duplicates (at-least-once delivery) are dropped.
 */
export function requestId(line: number, url: string): string {
  return createHash("sha256").update(`${line} ${url}`).digest("hex").slice(0, 32);
}

let dispatcher: Dispatcher | undefined;

/**
 * What `aiokit worker` gives its requests: the connections (sized by its
 * -c) and `rates(key)`, the --rate-per-host limiters it shares with every
 * worker through Redis.
 */
export function useWorkerResources(
  shared: Dispatcher,
  rates: (key: string) => StartLimitFactory,
): void {
  dispatcher = shared;
  sharedRates = rates;
}

let sharedRates: ((key: string) => StartLimitFactory) | undefined;

/** One Requester per set of flags (a worker serves runs with different flags); all share the connections. */
const requesters = new Map<string, Requester>();
const MAX_REQUESTERS = 32;

function requesterFor(o: WireOptions): Requester {
  const key = JSON.stringify(o);
  let requester = requesters.get(key);
  if (requester === undefined) {
    dispatcher ??= new Agent({ connections: 64, pipelining: 1, connect: { timeout: 10_000 } });
    const hostRate = o.hostRate;
    const options: FetchOptions = {
      ...o,
      input: "-",
      output: undefined,
      concurrency: 64,
      perHost: undefined,
      // The queue holds -c, --per-host and --rate across workers; --rate-per-host is held here, through Redis.
      rate: hostRate?.perSecond,
      ratePerHost: hostRate !== undefined,
      resume: false,
      progress: "never",
      quiet: true,
      queue: undefined,
    };
    requester = new Requester(
      options,
      dispatcher,
      hostRate === undefined
        ? undefined
        : (sharedRates as (key: string) => StartLimitFactory)(hostRate.key),
    );
    if (requesters.size >= MAX_REQUESTERS) {
      requesters.delete(requesters.keys().next().value as string);
    }
    requesters.set(key, requester);
  }
  return requester;
}

/** --save directories seen to exist here. */
const saveDirs = new Set<string>();

/** Why `dir` can't take the bodies on this machine, or undefined. */
async function saveProblem(dir: string): Promise<string | undefined> {
  if (saveDirs.has(dir)) return undefined;
  const found = await stat(dir).catch(() => undefined);
  if (found?.isDirectory() === true) {
    saveDirs.add(dir);
    return undefined;
  }
  return `--save ${dir} is not a directory on worker ${hostname()} (pid ${process.pid}): with --queue, --save must be storage every worker can write (a shared mount); create it there`;
}

/**
 * One request, start to finish, as its record: every outcome is a record
 * (an answer of any status, or the error that ended it), as in a local run.
 */
export const fetchTask = defineTask(
  "aiokit.fetch",
  async (wire: WireRequest, { signal }): Promise<ResultRecord> => {
    const method = wire.method ?? wire.o.method;
    if (wire.o.hostRate !== undefined && sharedRates === undefined) {
      return {
        line: wire.line,
        url: wire.url,
        method,
        error: "--rate-per-host needs the requests made by aiokit worker",
      };
    }
    if (wire.o.save !== undefined) {
      const problem = await saveProblem(wire.o.save);
      if (problem !== undefined) return { line: wire.line, url: wire.url, method, error: problem };
    }
    const item: FetchRequest = {
      kind: "request",
      line: wire.line,
      url: new URL(wire.url),
      method: wire.method,
      headers: wire.headers,
      body: wire.body,
    };
    return requesterFor(wire.o).fetch(item, retryOptions(wire.o.retries, signal), identity);
  },
);

function identity<T>(value: T): T {
  return value;
}
