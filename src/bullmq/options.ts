import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import type { RetryOptions } from "../index.js";

/** Options of `queue.run` and `queue.map`: `map`'s names and meaning, for one run. */
export interface RunOptions<I> {
  /** Most inputs being processed at once in the whole run, across all workers (default `Infinity`: as many as the window and the workers allow). */
  readonly concurrency?: number | undefined;
  /** Never more than `limit` starts in any sliding `interval` (ms), across all workers. */
  readonly rate?: { readonly limit: number; readonly interval: number } | undefined;
  /** aiokit's retry options (data only: `retryIf` and `onRetry` cannot cross machines). Default: no retries. */
  readonly retry?: Omit<RetryOptions, "signal" | "retryIf" | "onRetry"> | undefined;
  /** The key of an input, e.g. its URL's host: with `perKey`, at most that many inputs of one key run at once. */
  readonly key?: ((input: I, index: number) => string) | undefined;
  /** Most inputs of one `key` running at once, across all workers. */
  readonly perKey?: number | undefined;
  /** An idempotency key per input: hex digits, unique in the run. Default: the input's index. */
  readonly id?: ((input: I, index: number) => string) | undefined;
  /** Inputs per BullMQ job, run one after another by one worker: cuts the Redis cost per input (default 1). */
  readonly chunk?: number | undefined;
  /** Most inputs enqueued and not yet reported (default 1,000): bounds Redis memory however long the input. */
  readonly window?: number | undefined;
  /** Aborting it cancels the whole run, on every machine. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The run's id (hex, default random). A producer that restarts with the id
   * of a run whose producer died attaches to it: inputs still queued are not
   * enqueued twice (job ids come from the input ids), results not yet read
   * are read. A run whose producer is alive cannot be attached to.
   */
  readonly runId?: string | undefined;
  /** What the run is, for `listRuns` (e.g. the output file it writes), up to 200 characters. */
  readonly label?: string | undefined;
}

/** Options of `queue.map`: those of `run`, and `settle` to collect every outcome. */
export interface QueueMapOptions<I> extends RunOptions<I> {
  /** Resolve to one `PromiseSettledResult` per input instead of rejecting on the first error. */
  readonly settle?: boolean | undefined;
}

/** One input's outcome, as `queue.run` yields it when the input is done. */
export type Outcome<O> =
  | {
      readonly index: number;
      readonly id: string;
      readonly status: "fulfilled";
      readonly value: O;
      readonly attempts: number;
    }
  | {
      readonly index: number;
      readonly id: string;
      readonly status: "rejected";
      readonly reason: unknown;
      readonly attempts: number;
    };

/** The run options, checked and with defaults. */
export interface Checked<I> {
  readonly concurrency: number;
  readonly rate: { readonly limit: number; readonly interval: number } | undefined;
  readonly retry: RetryOptions;
  readonly key: ((input: I, index: number) => string) | undefined;
  readonly perKey: number;
  readonly id: ((input: I, index: number) => string) | undefined;
  readonly chunk: number;
  readonly window: number;
  readonly signal: AbortSignal | undefined;
  readonly runId: string | undefined;
  readonly label: string;
}

const HEX = /^[0-9a-fA-F]{1,128}$/;

/** Checks an input's id: hex (it is part of a BullMQ job id and a Redis stream field). */
export function expectId(id: unknown, index: number): string {
  if (typeof id !== "string" || !HEX.test(id)) {
    throw new TypeError(
      `Expected \`id\` to return 1 to 128 hex digits for input ${index}, got ${describe(id)}`,
    );
  }
  return id;
}

/** Checks run options eagerly, so bad input fails before anything is enqueued. */
export function checkRunOptions<I>(options: RunOptions<I> | undefined): Checked<I> {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected run options to be an object, got ${describe(options)}`);
  }
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true, allowInfinity: true });
  const rate = options.rate;
  if (rate !== undefined) {
    if (typeof rate !== "object" || rate === null) {
      throw new TypeError(`Expected \`rate\` to be { limit, interval }, got ${describe(rate)}`);
    }
    expectNumber("`rate.limit`", rate.limit, { min: 1, integer: true });
    expectNumber("`rate.interval`", rate.interval, { min: 1 });
  }
  const retry = options.retry ?? { retries: 0 };
  if (typeof retry !== "object" || retry === null) {
    throw new TypeError(`Expected \`retry\` to be retry options, got ${describe(retry)}`);
  }
  for (const name of ["retryIf", "onRetry", "signal"] as const) {
    if ((retry as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(
        `Expected \`retry\` to hold data only: \`retry.${name}\` cannot cross machines; use the run's \`signal\`, or decide inside the task`,
      );
    }
  }
  const perKey = options.perKey ?? Number.POSITIVE_INFINITY;
  expectNumber("`perKey`", perKey, { min: 1, integer: true, allowInfinity: true });
  if ((options.key === undefined) !== (options.perKey === undefined)) {
    throw new TypeError(
      "Expected `key` and `perKey` together: `key` names the key, `perKey` limits it",
    );
  }
  for (const name of ["key", "id"] as const) {
    const fn = options[name];
    if (fn !== undefined && typeof fn !== "function") {
      throw new TypeError(
        `Expected \`${name}\` to be a function of (input, index), got ${describe(fn)}`,
      );
    }
  }
  const chunk = options.chunk ?? 1;
  expectNumber("`chunk`", chunk, { min: 1, integer: true });
  if (chunk > 1 && (rate !== undefined || options.key !== undefined)) {
    throw new TypeError(
      "Expected `chunk` to be 1 with `rate` or `key`: a chunk's inputs share one BullMQ job, so they cannot be limited one by one",
    );
  }
  const window = options.window ?? 1000;
  expectNumber("`window`", window, { min: 1, integer: true });
  expectSignal(options.signal);
  const runId = options.runId;
  if (runId !== undefined && (typeof runId !== "string" || !/^[0-9a-f]{1,64}$/.test(runId))) {
    throw new TypeError(
      `Expected \`runId\` to be 1 to 64 lower-case hex digits, got ${describe(runId)}`,
    );
  }
  const label = options.label ?? "";
  if (typeof label !== "string" || label.length > 200) {
    throw new TypeError(
      `Expected \`label\` to be a string of up to 200 characters, got ${describe(label)}`,
    );
  }
  return {
    concurrency,
    rate,
    retry,
    key: options.key,
    perKey,
    id: options.id,
    chunk,
    window: Math.max(window, chunk),
    signal: options.signal,
    runId,
    label,
  };
}

/**
 * BullMQ's rate limiter is a fixed window that opens at the first start: up
 * to `max` starts, then none until `duration` has passed since that first
 * start. A sliding `interval` overlaps at most `k + 1` such windows when
 * `duration = interval / k`, so `max = floor(limit / (k + 1))` keeps every
 * sliding window at `limit` or less; k = 9 gives ~90 % of `limit` on average.
 */
export function splitRate(limit: number, interval: number): { max: number; duration: number } {
  if (limit === 1) return { max: 1, duration: Math.ceil(interval) };
  const k = Math.min(9, limit - 1);
  return { max: Math.floor(limit / (k + 1)), duration: Math.ceil(interval / k) };
}
