import { neverAborted } from "../_internal/abort.js";
import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import { isCancellation } from "../errors.js";
import { sleep } from "../task/sleep.js";

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts after the first one: an integer from 0 and up, or `Infinity` (default 3). */
  readonly retries?: number | undefined;
  /** The backoff's base, in ms: the first retry waits up to this long (default 100). */
  readonly minDelay?: number | undefined;
  /** The longest wait between attempts, in ms (default 30,000). A `retryAfter` hint longer than this gives up. */
  readonly maxDelay?: number | undefined;
  /** How much the backoff grows per attempt: a number from 1 and up (default 2). */
  readonly factor?: number | undefined;
  /** Full jitter: wait a random time between 0 and the backoff, so many clients don't retry in step (default true). */
  readonly jitter?: boolean | undefined;
  /**
   * Decides whether an error is worth another attempt (default: every error
   * except cancellations). May be async.
   */
  readonly retryIf?:
    | ((error: unknown, attempt: number) => boolean | PromiseLike<boolean>)
    | undefined;
  /** Aborting it stops at once: during a wait, or as soon as the running attempt settles. */
  readonly signal?: AbortSignal | undefined;
  /** Called before each wait with the error, the attempt that failed (from 1) and the wait in ms. May be async. */
  readonly onRetry?:
    | ((error: unknown, attempt: number, delay: number) => void | PromiseLike<void>)
    | undefined;
}

/**
 * Rejection of {@link retry} when `fn` failed more than once: `errors` holds
 * every attempt's error in order, and `cause` is the last one.
 *
 * @example
 * ```ts
 * import { retry, RetryError } from "aiokit";
 * try {
 *   await retry(() => fetchFlaky(), { retries: 2 });
 * } catch (error) {
 *   if (error instanceof RetryError) console.log(error.attempts, error.errors.at(-1));
 * }
 * ```
 */
export class RetryError extends AggregateError {
  override readonly name = "RetryError";
  /** Number of attempts made. */
  readonly attempts: number;
  constructor(errors: readonly unknown[]) {
    const last = errors.at(-1);
    const detail = last instanceof Error ? `: ${last.message}` : "";
    super(errors, `Gave up after ${errors.length} attempts${detail}`, { cause: last });
    this.attempts = errors.length;
  }
}

const notCancellation = (error: unknown): boolean => !isCancellation(error);

/**
 * Calls `fn(attempt, signal)` until it succeeds, waiting between attempts with
 * exponential backoff and full jitter: after attempt `n` fails, it waits a
 * random time between 0 and `min(maxDelay, minDelay * factor ** (n - 1))` ms
 * (exactly that long with `jitter: false`), on aiokit's clock. `attempt`
 * counts from 1.
 *
 * Server hints: when the error carries a retry-after hint, the wait is at
 * least that long; a hint longer than `maxDelay` gives up at once (retrying
 * sooner than the server allows is pointless). Honoured, in this order:
 * `error.retryAfter` as milliseconds (a number), a `Date`, or an HTTP
 * `Retry-After` value (a string: delay-seconds or an HTTP date); else a
 * `Retry-After` header in `error.headers` or `error.response.headers` (a
 * `Headers` object or a plain record), as thrown by fetch wrappers such as ky
 * and axios. Dates are converted with the wall clock (`Date.now()`); the wait
 * itself runs on aiokit's clock.
 *
 * Errors: it rejects with the error itself when `fn` failed once (it was not
 * retryable, or `retries` is 0), and with a {@link RetryError} holding every
 * error (its `cause` is the last) when `fn` failed more than once. Errors of
 * `retryIf` and `onRetry` reject at once.
 *
 * Cancellation: aborting `signal` rejects with its reason at once when
 * waiting between attempts; during an attempt, `fn` gets the signal and
 * `retry` rejects with the signal's reason as soon as the attempt settles.
 * Cancellations (`AbortError`s) are not retried unless `retryIf` says so.
 *
 * @example
 * ```ts
 * import { retry } from "aiokit";
 * const body = await retry(
 *   async (attempt, signal) => {
 *     const res = await fetch(url, { signal });
 *     if (res.status === 429 || res.status >= 500) {
 *       throw Object.assign(new Error(`HTTP ${res.status}`), { headers: res.headers });
 *     }
 *     return res.text();
 *   },
 *   { retries: 5, minDelay: 200, maxDelay: 10_000, signal: AbortSignal.timeout(60_000) },
 * );
 * ```
 */
export function retry<T>(
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions = {},
): Promise<Awaited<T>> {
  try {
    return new Retry(fn, options).attempt(1);
  } catch (error) {
    return Promise.reject(error); // bad arguments reject, never throw
  }
}

// Promise chaining rather than an async loop: a first attempt that succeeds,
// the usual case, costs one `then` and no coroutine.
class Retry<T> {
  readonly #fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>;
  readonly #retries: number;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #factor: number;
  readonly #jitter: boolean;
  readonly #retryIf: (error: unknown, attempt: number) => boolean | PromiseLike<boolean>;
  readonly #signal: AbortSignal | undefined;
  readonly #onRetry: RetryOptions["onRetry"];
  readonly #errors: unknown[] = [];

  constructor(
    fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
    options: RetryOptions,
  ) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Expected retry options to be an object, got ${describe(options)}`);
    }
    expectFunction("`fn`", fn);
    this.#fn = fn;
    this.#retries = options.retries ?? 3;
    this.#minDelay = options.minDelay ?? 100;
    this.#maxDelay = options.maxDelay ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? true;
    this.#retryIf = options.retryIf ?? notCancellation;
    this.#signal = options.signal;
    this.#onRetry = options.onRetry;
    expectNumber("`retries`", this.#retries, { integer: true, allowInfinity: true });
    expectNumber("`minDelay`", this.#minDelay);
    expectNumber("`maxDelay`", this.#maxDelay, { allowInfinity: true });
    expectNumber("`factor`", this.#factor, { min: 1 });
    expectFunction("`retryIf`", this.#retryIf);
    if (this.#onRetry !== undefined) expectFunction("`onRetry`", this.#onRetry);
    expectSignal(this.#signal);
    if (this.#maxDelay < this.#minDelay) {
      throw new RangeError(
        `Expected \`maxDelay\` to be at least \`minDelay\` (${this.#minDelay}), got ${describe(this.#maxDelay)}`,
      );
    }
  }

  attempt(attempt: number): Promise<Awaited<T>> {
    const signal = this.#signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let result: T | PromiseLike<T>;
    try {
      result = this.#fn(attempt, signal ?? neverAborted);
    } catch (error) {
      return this.#failed(error, attempt);
    }
    return Promise.resolve(result).then(undefined, (error: unknown) =>
      this.#failed(error, attempt),
    ) as Promise<Awaited<T>>;
  }

  async #failed(error: unknown, attempt: number): Promise<Awaited<T>> {
    const signal = this.#signal;
    if (signal?.aborted) throw signal.reason;
    this.#errors.push(error);
    if (attempt > this.#retries || !(await this.#retryIf(error, attempt))) throw this.#giveUp();
    const backoff = Math.min(this.#maxDelay, this.#minDelay * this.#factor ** (attempt - 1));
    let delay = this.#jitter ? Math.random() * backoff : backoff;
    const hint = retryAfterOf(error);
    if (hint !== undefined) {
      if (hint > this.#maxDelay) throw this.#giveUp();
      delay = Math.max(delay, hint);
    }
    if (this.#onRetry !== undefined) await this.#onRetry(error, attempt, delay);
    await sleep(delay, { signal });
    return this.attempt(attempt + 1);
  }

  #giveUp(): unknown {
    const errors = this.#errors;
    return errors.length === 1 ? errors[0] : new RetryError(errors);
  }
}

/** The retry-after hint an error carries, in ms from now; undefined when none (see {@link retry}). */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const carrier = error as { retryAfter?: unknown; headers?: unknown; response?: unknown };
  if (carrier.retryAfter !== undefined && carrier.retryAfter !== null) {
    return parseHint(carrier.retryAfter, true);
  }
  const header = headerOf(carrier.headers) ?? headerOf(responseHeaders(carrier.response));
  return header === undefined ? undefined : parseHint(header, false);
}

function responseHeaders(response: unknown): unknown {
  return typeof response === "object" && response !== null
    ? (response as { headers?: unknown }).headers
    : undefined;
}

function headerOf(headers: unknown): unknown {
  if (typeof headers !== "object" || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === "function") return get.call(headers, "retry-after") ?? undefined;
  const record = headers as Record<string, unknown>;
  return record["retry-after"] ?? record["Retry-After"];
}

// A number is ms in `retryAfter` (the caller's own unit) and never appears in a header.
function parseHint(value: unknown, numberIsMs: boolean): number | undefined {
  if (typeof value === "number") {
    return numberIsMs && Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (value instanceof Date) {
    const ms = value.getTime() - Date.now();
    return Number.isNaN(ms) ? undefined : Math.max(0, ms);
  }
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
