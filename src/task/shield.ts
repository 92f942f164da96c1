import { sharedController } from "../_internal/abort.js";
import { expectFunction, expectSignal } from "../_internal/describe.js";

/** Options of {@link shield}. */
export interface ShieldOptions {
  /** The caller's signal: its abort does not reach `fn`, but the caller still sees it. */
  readonly signal?: AbortSignal | undefined;
}

let untouchable: AbortSignal | undefined;

/**
 * Runs `fn` protected from cancellation: `asyncio.shield` / trio's shielded
 * cancel scope. `fn` gets a signal that never aborts, so a commit, a flush or
 * a cleanup runs to completion even when the caller is cancelled. Structured:
 * `shield` always waits for `fn` to finish; if the caller's `signal` aborted
 * meanwhile, it then rejects with the signal's reason (the caller still sees
 * the cancellation), unless `fn` itself failed, whose error wins.
 *
 * @example
 * ```ts
 * import { shield } from "aiokit";
 * await shield(() => db.commit(), { signal }); // never half-committed
 * ```
 */
export async function shield<T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: ShieldOptions,
): Promise<Awaited<T>> {
  expectFunction("`fn`", fn);
  const signal = options?.signal;
  expectSignal(signal);
  untouchable ??= sharedController().signal;
  const value = await fn(untouchable);
  if (signal?.aborted) throw signal.reason;
  return value;
}
