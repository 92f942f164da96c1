/**
 * Moving (not copying) a worker job's result back to the caller.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";

/** The key under which a {@link Transfer} holds what to move (a registered symbol, so copies of aiokit agree). */
export const TRANSFER = Symbol.for("aiokit.transfer");

/** A value to return from a worker job together with what to move rather than copy. */
export interface Transfer<T> {
  readonly [TRANSFER]: readonly TransferListItem[];
  readonly value: T;
}

/**
 * Wraps a worker job's result so that `transferList` (ArrayBuffers,
 * MessagePorts…) is moved to the calling thread instead of copied; the caller
 * receives `value`. Use it for large binary results. The worker must not touch
 * the moved buffers afterwards (they are detached).
 *
 * The typed caller (`toWorker<typeof fn>`) sees the unwrapped `T`.
 *
 * @example
 * ```ts
 * // in the worker module
 * import { transfer } from "aiokit/node";
 * export function render(width: number, height: number) {
 *   const pixels = new Uint8Array(width * height * 4);
 *   // … fill pixels …
 *   return transfer(pixels, [pixels.buffer]);
 * }
 * ```
 */
export function transfer<T>(value: T, transferList: readonly TransferListItem[]): Transfer<T> {
  return { [TRANSFER]: transferList, value };
}
