/**
 * Plumbing shared by the stream stages: the one `done` result, closing an
 * iterator without tripping over a missing or throwing `return()`, and the
 * context every stage of one iteration shares.
 */
import { CancelledError } from "../errors.js";
import { noop } from "./abort.js";
import { describe } from "./describe.js";

export const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;

export const DONE_PROMISE: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE);

/** What every stage of one iteration of a stream shares. */
export interface Context {
  /** Aborted when the iteration is cancelled from outside (`stream(source, { signal })`, a terminal's `{ signal }`). */
  readonly signal: AbortSignal | undefined;
}

export const NO_CONTEXT: Context = { signal: undefined };

/** Why a stage stops its work: the outside signal's reason, or "closed". */
export function closeReason(ctx: Context): unknown {
  const signal = ctx.signal;
  return signal?.aborted ? signal.reason : new CancelledError("The stream was closed");
}

/**
 * Calls `iterator.return()` when it has one; resolves when it has finished
 * (rejects with its error). A synchronous throw becomes a rejection.
 */
export function close(iterator: AsyncIterator<unknown> | Iterator<unknown>): Promise<unknown> {
  try {
    const result = iterator.return?.();
    return result === undefined ? DONE_PROMISE : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** {@link close}, ignoring its errors (used when another error already wins). */
export function closeQuietly(iterator: AsyncIterator<unknown> | Iterator<unknown>): Promise<void> {
  return close(iterator).then(noop, noop);
}

/**
 * The iterator of an iterable or async iterable, or a TypeError naming what
 * was received. Strings count only with `strings` (a source may be a string;
 * flatMap's results may not, as in the TC39 helpers).
 */
export function iteratorOf<T>(
  value: unknown,
  what: string,
  strings = false,
): { iterator: AsyncIterator<T> | Iterator<T>; async: boolean } {
  if (strings && typeof value === "string") {
    return { iterator: value[Symbol.iterator]() as Iterator<T>, async: false };
  }
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const asyncMethod = (value as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
    if (typeof asyncMethod === "function") {
      return { iterator: asyncMethod.call(value) as AsyncIterator<T>, async: true };
    }
    const syncMethod = (value as Partial<Iterable<T>>)[Symbol.iterator];
    if (typeof syncMethod === "function") {
      return { iterator: syncMethod.call(value) as Iterator<T>, async: false };
    }
  }
  throw new TypeError(
    `Expected ${what} to be an iterable or async iterable, got ${describe(value)}`,
  );
}
