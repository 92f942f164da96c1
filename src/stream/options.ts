/**
 * The options of the Stream's methods, checked in one place, and the stage a
 * mapping operator (`map`, `filter`, `flatMap`, `forEach`) runs on.
 * @module
 */
import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import type { Context } from "../_internal/iterators.js";
import { type RateLimiter, type RateOption, toRateLimiter } from "../limit/rate-limiter.js";
import { ConcurrentStage } from "./concurrent.js";
import { FILTER, SerialMapStage } from "./serial.js";

/** Options of {@link stream} and `new Stream()`. */
export interface StreamOptions {
  /**
   * Aborting it cancels every iteration of the stream (and of streams derived
   * from it): running functions' signals abort, the source is closed, and the
   * consumer's `for await` rejects with the signal's reason.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Stream.map}, {@link Stream.filter} and {@link Stream.flatMap}. */
export interface StreamMapOptions {
  /** Most calls running at once: an integer from 1 and up, or `Infinity` (default 1). */
  readonly concurrency?: number | undefined;
  /**
   * Keep input order (default true). With false, results come as they finish;
   * either way at most `concurrency` items are between the source and you.
   */
  readonly ordered?: boolean | undefined;
  /** Also limit how often the function starts: a shared `RateLimiter` or `{ limit, interval }` (one per iteration). */
  readonly rate?: RateOption | undefined;
}

/** Options of the terminal methods (`toArray`, `reduce`, `some`, …). */
export interface StreamTerminalOptions {
  /** Aborting it stops the iteration (as `stream(source, { signal })` does) and rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Stream.forEach}. */
export interface StreamForEachOptions extends StreamMapOptions, StreamTerminalOptions {}

/** Options of {@link Stream.batch}. */
export interface StreamBatchOptions {
  /** Also hand out a batch when this many ms have passed since its first item arrived. */
  readonly maxWait?: number | undefined;
}

/** A stream's item type: what `for await` gives for a source. */
export type ItemOf<S> =
  S extends ReadableStream<infer T>
    ? T
    : S extends AsyncIterable<infer T>
      ? T
      : S extends Iterable<infer T>
        ? Awaited<T>
        : never;

/** @internal Checks `stream(source, options)`'s options; returns its signal. */
export function checkStreamOptions(options: StreamOptions): AbortSignal | undefined {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected stream options to be an object, got ${describe(options)}`);
  }
  expectSignal(options.signal);
  return options.signal;
}

/** @internal A mapping operator's options, checked. */
export interface MapSpec {
  readonly concurrency: number;
  readonly ordered: boolean;
  /** The rate limiter of one iteration (shared, or made for it). */
  readonly rate: () => ReturnType<typeof toRateLimiter>;
}

/** @internal One call at a time, no rate limit: `tap`'s spec. */
export const SERIAL: MapSpec = { concurrency: 1, ordered: true, rate: () => undefined };

/** @internal Checks the options of `map`, `filter`, `flatMap` and `forEach`. */
export function checkMapOptions(options: StreamMapOptions | undefined): MapSpec {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  }
  const concurrency = options?.concurrency ?? 1;
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true, allowInfinity: true });
  const ordered = options?.ordered ?? true;
  if (typeof ordered !== "boolean") {
    throw new TypeError(`Expected \`ordered\` to be a boolean, got ${describe(ordered)}`);
  }
  const option = options?.rate;
  const shared = toRateLimiter(option); // validates eagerly
  // Plain `{ limit, interval }` gives each iteration its own limiter.
  const rate = shared === option ? () => shared : () => toRateLimiter(option);
  return { concurrency, ordered, rate };
}

/**
 * @internal The stage of a mapping operator in one iteration: serial at
 * concurrency 1, else concurrent. `kind` is the serial stage's MAP, FILTER
 * or TAP.
 */
export function mapStage<T>(
  up: AsyncIterator<unknown>,
  // `never`: any item function fits; the stage calls it only with its own items.
  itemFn: (item: never, index: number, signal: AbortSignal) => unknown,
  kind: number,
  spec: MapSpec,
  ctx: Context,
): AsyncIterator<T> {
  const fn = itemFn as (item: unknown, index: number, signal: AbortSignal) => unknown;
  if (spec.concurrency === 1) return new SerialMapStage<T>(up, fn, kind, spec.rate(), ctx);
  return new ConcurrentStage<T>(
    up,
    {
      fn,
      filter: kind === FILTER,
      concurrency: spec.concurrency,
      ordered: spec.ordered,
      rate: spec.rate(),
    },
    ctx,
  );
}

/** @internal Checks `batch(size, options)`; returns `maxWait`. */
export function checkBatchOptions(
  size: number,
  options: StreamBatchOptions | undefined,
): number | undefined {
  expectNumber("`size`", size, { min: 1, integer: true, allowInfinity: true });
  const maxWait = options?.maxWait;
  if (maxWait !== undefined) expectNumber("`maxWait`", maxWait, { allowInfinity: true });
  return maxWait;
}

/** @internal Checks `throttle(options)`; returns the rate limiter of one iteration. */
export function throttleRate(options: RateOption): () => RateLimiter {
  const shared = toRateLimiter(options);
  if (shared === undefined) {
    throw new TypeError(
      `Expected throttle options like { limit, interval }, got ${describe(options)}`,
    );
  }
  return shared === options ? () => shared : () => toRateLimiter(options) ?? shared;
}
