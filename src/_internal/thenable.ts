/** True for anything `await` would unwrap: an object or function with a `then` method. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** A promise already resolved with undefined, shared (callers only ever `then` it). */
export const resolved: Promise<void> = Promise.resolve();
