import { isThenable } from "../_internal/thenable.js";
import type { Awaitable } from "./gather.js";

/**
 * @internal Starts one item of `race()` or `asCompleted()` (calling it with
 * `signal` when it is a function) and reports how it settles to `settle`: at
 * once for a plain value or a throw (of the call, or of reading `then`), later
 * for a thenable. Returns the promise of that later report, else undefined.
 */
export function startItem(
  item: Awaitable<unknown>,
  signal: AbortSignal,
  settle: (ok: boolean, value: unknown) => void,
): Promise<void> | undefined {
  let value: unknown;
  let thenable: boolean;
  try {
    value = typeof item === "function" ? item(signal) : item;
    thenable = isThenable(value); // reads `then`, whose getter may throw
  } catch (error) {
    settle(false, error);
    return undefined;
  }
  if (!thenable) {
    settle(true, value);
    return undefined;
  }
  return Promise.resolve(value).then(
    (v) => settle(true, v),
    (e: unknown) => settle(false, e),
  );
}
