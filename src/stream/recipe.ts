/**
 * How a Stream is made and opened: a recipe builds one iteration's chain of
 * stages (a fresh pull of the source through each), and opening it joins the
 * stream's signal with the consumer's and puts the guard in front.
 * @module
 */
import { link, noop, sharedController } from "../_internal/abort.js";
import { describe } from "../_internal/describe.js";
import type { Context } from "../_internal/iterators.js";
import { Guard } from "./guard.js";
import { openSource, type StreamSource } from "./sources.js";

/** Builds one iteration: the last stage's iterator, given the iteration's context. */
export type Build<T> = (ctx: Context) => AsyncIterator<T>;

/** Internal: how derived streams are made (not a source). */
export class Recipe<T> {
  constructor(readonly build: Build<T>) {}
}

/** True for what `stream()` takes: an iterable, an async iterable, a ReadableStream (or a string). */
export function isSource(value: unknown): boolean {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    return typeof value === "string";
  }
  const v = value as Record<PropertyKey, unknown>;
  return (
    typeof v.getReader === "function" ||
    typeof v[Symbol.asyncIterator] === "function" ||
    typeof v[Symbol.iterator] === "function"
  );
}

/** How a stream of `source` builds an iteration: by opening the source. */
export function buildOf<T>(source: StreamSource<T>): Build<T> {
  if (!isSource(source)) {
    throw new TypeError(
      `Expected the stream's source to be an iterable, an async iterable or a ReadableStream, got ${describe(source)}`,
    );
  }
  return (ctx) => openSource(source, ctx);
}

/**
 * Opens one iteration of `build` under the stream's own signal and an
 * `extra` one (a terminal method's): it stops when either aborts.
 */
export function openIteration<T>(
  build: Build<T>,
  own: AbortSignal | undefined,
  extra: AbortSignal | undefined,
): AsyncIterator<T> {
  let signal = own ?? extra;
  let unlink = noop;
  if (own !== undefined && extra !== undefined && own !== extra) {
    const controller = sharedController();
    if (own.aborted) controller.abort(own.reason);
    else if (extra.aborted) controller.abort(extra.reason);
    else {
      const unlinkOwn = link(own, controller);
      const unlinkExtra = link(extra, controller);
      unlink = () => {
        unlinkOwn();
        unlinkExtra();
      };
    }
    signal = controller.signal;
  }
  if (signal === undefined) return build({ signal });
  const ctx = { signal };
  try {
    return new Guard(build(ctx), ctx, unlink);
  } catch (error) {
    unlink();
    throw error;
  }
}
