import { addAbortListener, removeAbortListener } from "../_internal/abort.js";
import { expectNumber, expectSignal } from "../_internal/describe.js";
import { getClock } from "../clock.js";

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Aborting it rejects the sleep with the signal's reason and clears the timer. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Waits `ms` milliseconds on aiokit's clock: `asyncio.sleep` for TypeScript.
 * Rejects with `signal.reason` as soon as `signal` aborts (at once if it already
 * has), and always clears its timer and listener.
 *
 * @example
 * ```ts
 * import { sleep } from "aiokit";
 * await sleep(250);
 * await sleep(10_000, { signal: AbortSignal.timeout(100) }).catch((error) => {
 *   console.log(error.name); // "TimeoutError", after 100 ms
 * });
 * ```
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  try {
    expectNumber("`ms`", ms, { allowInfinity: true });
    expectSignal(options?.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const clock = getClock();
    const handle = ms === Number.POSITIVE_INFINITY ? undefined : clock.setTimer(done, ms);
    const onAbort = (): void => {
      if (handle !== undefined) clock.clearTimer(handle);
      reject(signal?.reason);
    };
    if (signal !== undefined) addAbortListener(signal, onAbort);
    function done(): void {
      if (signal !== undefined) removeAbortListener(signal, onAbort);
      resolve();
    }
  });
}
