/**
 * The functions that make streams: {@link stream} of one source, {@link merge}
 * and {@link zip} of several.
 * @module
 */
import { describe } from "../_internal/describe.js";
import { MergeStage, ZipStage } from "./combine.js";
import type { ItemOf, StreamOptions } from "./options.js";
import { isSource, Recipe } from "./recipe.js";
import type { StreamSource } from "./sources.js";
import { Stream } from "./stream.js";

/**
 * Makes a lazy {@link Stream} of `source`: an iterable (its promises are
 * awaited), an async iterable (an async generator, a Node readable stream),
 * or a web `ReadableStream` (a `fetch` body). For events and callbacks, see
 * `Stream.fromEvent` and `Stream.fromPush`.
 *
 * @example
 * ```ts no-run: reads a big.log of yours
 * import { createReadStream } from "node:fs";
 * import { stream } from "aiokit";
 * const lines = stream(createReadStream("big.log")).flatMap((chunk) => String(chunk).split("\n"));
 * const errors = await lines.filter((line) => line.includes("ERROR")).take(10).toArray();
 * ```
 */
export function stream<T>(source: StreamSource<T>, options?: StreamOptions): Stream<T> {
  return new Stream(source, options);
}

/**
 * One stream of the items of all `sources`, in the order they arrive. Each
 * source is pulled one item at a time, and only as the consumer asks, so a
 * fast source never runs far ahead. The first error closes the other sources
 * and surfaces once; ending early closes them all.
 *
 * @example
 * ```ts
 * import { merge, Stream } from "aiokit";
 * for await (const event of merge(Stream.fromEvent(left, "message"), Stream.fromEvent(right, "message"))) {
 *   handle(event);
 * }
 * ```
 */
export function merge<S extends readonly StreamSource<unknown>[]>(
  ...sources: S
): Stream<ItemOf<S[number]>> {
  for (const source of sources) {
    if (!isSource(source)) {
      throw new TypeError(
        `Expected merge's sources to be iterables or streams, got ${describe(source)}`,
      );
    }
  }
  return new Stream(
    new Recipe((ctx) => new MergeStage<ItemOf<S[number]>>(sources, ctx)) as unknown as StreamSource<
      ItemOf<S[number]>
    >,
  );
}

/**
 * One stream of tuples: the first item of each source, then the second, and
 * so on, each round pulled from all sources at once. Ends as soon as one
 * source ends (closing the others); the first error closes the others and
 * surfaces.
 *
 * @example
 * ```ts
 * import { zip } from "aiokit";
 * for await (const [name, score] of zip(names, scores())) console.log(name, score);
 * ```
 */
export function zip<S extends readonly StreamSource<unknown>[]>(
  ...sources: S
): Stream<{ -readonly [K in keyof S]: ItemOf<S[K]> }> {
  for (const source of sources) {
    if (!isSource(source)) {
      throw new TypeError(
        `Expected zip's sources to be iterables or streams, got ${describe(source)}`,
      );
    }
  }
  type Tuple = { -readonly [K in keyof S]: ItemOf<S[K]> };
  return new Stream(
    new Recipe(
      (ctx) => new ZipStage<Tuple & unknown[]>(sources, ctx),
    ) as unknown as StreamSource<Tuple>,
  );
}
