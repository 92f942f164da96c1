/** Shared helpers of the synchronization tests (not a test file itself). */
import { getEventListeners } from "node:events";

export { waitIdle as flush } from "../../src/testing/index.js";

/** What a promise did so far, readable synchronously after a flush. */
export interface Tracked<T> {
  readonly promise: Promise<T>;
  status: "pending" | "fulfilled" | "rejected";
  value: T | undefined;
  reason: unknown;
}

/** Watches `promise` (and handles its rejection, so a test can look at it later). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { promise, status: "pending", value: undefined, reason: undefined };
  promise.then(
    (value) => {
      tracked.status = "fulfilled";
      tracked.value = value;
    },
    (reason: unknown) => {
      tracked.status = "rejected";
      tracked.reason = reason;
    },
  );
  return tracked;
}

/** Abort listeners still registered on `signal`. */
export function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, "abort").length;
}
