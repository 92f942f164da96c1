/** The Stream class: sources, operators wired to their stages (one family per file), terminals. */
import { expectFunction, expectNumber } from "../_internal/describe.js";
import type { Context } from "../_internal/iterators.js";
import type { RateOption } from "../limit/rate-limiter.js";
import { BatchStage, BufferStage } from "./batching.js";
import { type CatchResult, CatchStage } from "./catch.js";
import {
  checkBatchOptions,
  checkMapOptions,
  checkStreamOptions,
  mapStage,
  SERIAL,
  type StreamBatchOptions,
  type StreamForEachOptions,
  type StreamMapOptions,
  type StreamOptions,
  type StreamTerminalOptions,
  throttleRate,
} from "./options.js";
import {
  checkPushSetup,
  type EventSourceLike,
  type EventSourceOptions,
  eventSetup,
  type PushSetup,
  PushSource,
  type PushSourceOptions,
} from "./push-source.js";
import { type Build, buildOf, openIteration, Recipe } from "./recipe.js";
import { FILTER, FlattenStage, MAP, TAP } from "./serial.js";
import { consume, find, type Open, reduce, test, toArray, toReadableStream } from "./sinks.js";
import { DropStage, TakeStage } from "./slicing.js";
import type { StreamSource } from "./sources.js";
import { ThrottleStage, TimeoutStage } from "./timing.js";

// For implementation signatures only: the public overloads spell their types out.
type ItemTest<T> = (item: T, index: number) => unknown;
type Reducer<T> = (accumulator: never, item: T, index: number) => unknown;

/**
 * A lazy, pull-based async stream: an `AsyncIterable<T>` with the methods of
 * the TC39 async iterator helpers (`map`, `filter`, `take`, `drop`,
 * `flatMap`, `reduce`, `toArray`, `forEach`, `some`, `every`, `find`), where
 * `map`, `filter`, `flatMap` and `forEach` can run `concurrency` calls at once
 * (`ordered` by default), plus `batch`, `buffer`, `tap`, `throttle`,
 * `timeout` and `catch`. Create one with {@link stream} (or `Stream.from`,
 * `Stream.fromEvent`, `Stream.fromPush`).
 *
 * Nothing happens until you iterate. Each iteration (`for await`, or a
 * terminal method) opens the source anew and pulls no further ahead than the
 * stages need: a `map` with concurrency 64 holds at most 64 items, running or
 * done, between the source and the consumer; a serial stage holds one. So a
 * stream over ten million items runs in flat memory.
 *
 * Errors surface once, from the consumer's `for await` (or the terminal
 * method's promise): the first error of a user function or of the source
 * stops every stage — each aborts the signal its functions got, waits for
 * them, and closes the stage before it, down to the source's `return()`.
 * Work started ahead of the consumer that is not reached is dropped, with its
 * errors. Ending early (`break`, `take`, an error in the loop body) closes the
 * chain the same way; `for await` waits for it.
 *
 * Cancellation: `stream(source, { signal })` or a terminal's `{ signal }`:
 * when it aborts, the chain is closed as above and the consumer's pending (or
 * next) `next()` rejects with the signal's reason.
 * Note: a stream's iterator is read one `next()` at a time (as `for await`
 * does); a second call while one is pending rejects with a TypeError.
 *
 * @example
 * ```ts
 * import { stream } from "aiokit";
 * interface Page { published: boolean; title: string }
 * const titles = stream(urls)
 *   .map(async (url, _i, signal) => (await fetch(url, { signal })).json() as Promise<Page>, {
 *     concurrency: 16,
 *     rate: { limit: 50, interval: 1_000 },
 *   })
 *   .filter((page) => page.published)
 *   .map((page) => page.title)
 *   .take(100);
 * for await (const title of titles) console.log(title);
 * ```
 */
export class Stream<T> implements AsyncIterable<T> {
  readonly #build: Build<T>;
  readonly #signal: AbortSignal | undefined;

  /**
   * @param source - An iterable, async iterable (a Node readable stream too) or web `ReadableStream`.
   * @throws TypeError when `source` is none of these.
   */
  constructor(source: StreamSource<T>, options?: StreamOptions);
  constructor(source: StreamSource<T> | Recipe<T>, options: StreamOptions = {}) {
    this.#signal = checkStreamOptions(options);
    this.#build = source instanceof Recipe ? source.build : buildOf(source);
  }

  /**
   * The same as {@link stream}.
   *
   * @example
   * ```ts
   * import { Stream } from "aiokit";
   * const numbers = Stream.from([1, 2, 3]);
   * ```
   */
  static from<T>(source: StreamSource<T>, options?: StreamOptions): Stream<T> {
    return new Stream(source, options);
  }

  /**
   * A stream of values pushed by callbacks, with a bounded buffer between:
   * `setup(sink)` runs when an iteration starts, pushes values into the
   * `PushSink`, then ends or fails it, and may return a teardown (called
   * once, however the stream stops). Up to `bufferSize` values wait for the
   * consumer (default 1024); a value meeting a full buffer meets `overflow`:
   * `"error"` (default: a RangeError), `"drop-newest"` or `"drop-oldest"`.
   *
   * @example
   * ```ts
   * import { Stream } from "aiokit";
   * const ticks = Stream.fromPush<number>((sink) => {
   *   const id = setInterval(() => sink.push(Date.now()), 100);
   *   return () => clearInterval(id);
   * }, { bufferSize: 10, overflow: "drop-oldest" });
   * for await (const tick of ticks.take(5)) console.log(tick);
   * ```
   */
  static fromPush<T>(
    setup: PushSetup<T>,
    options: PushSourceOptions & StreamOptions = {},
  ): Stream<T> {
    checkPushSetup(setup, options);
    return new Stream<T>(
      new Recipe((ctx) => new PushSource(setup, options, ctx)) as unknown as StreamSource<T>,
      { signal: options.signal },
    );
  }

  /**
   * A stream of the events of `type` that `target` emits, while an iteration
   * runs: a DOM `EventTarget` (items are the `Event`s) or a Node-style emitter
   * with `on`/`off` (items are each event's first argument). Events in `endOn`
   * end it, in `errorOn` fail it (default: `"error"` for emitters). Buffering
   * and overflow as for {@link Stream.fromPush}.
   *
   * @example
   * ```ts
   * import { Stream } from "aiokit";
   * const messages = Stream.fromEvent<MessageEvent>(new WebSocket(url), "message", { endOn: "close" });
   * for await (const message of messages) console.log(message.data);
   * ```
   */
  static fromEvent<E = unknown>(
    target: EventSourceLike,
    type: string,
    options: EventSourceOptions & StreamOptions = {},
  ): Stream<E> {
    const setup = eventSetup<E>(target, type, options);
    return Stream.fromPush<E>(setup, options);
  }

  /** Opens an iteration: a fresh pull of the source through every stage. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return openIteration(this.#build, this.#signal, undefined);
  }

  /** The sinks' way in: opens an iteration of this stream, under a terminal's signal too. */
  get #opener(): Open<T> {
    return (extra) => openIteration(this.#build, this.#signal, extra);
  }

  #pipe<R>(stage: (up: AsyncIterator<T>, ctx: Context) => AsyncIterator<R>): Stream<R> {
    const build = this.#build;
    return new Stream<R>(
      new Recipe<R>((ctx) => stage(build(ctx), ctx)) as unknown as StreamSource<R>,
      { signal: this.#signal },
    );
  }

  /**
   * Maps each item through `fn(item, index, signal)`, up to `concurrency`
   * calls at once, results in input order unless `ordered: false`. `signal`
   * is the iteration's: it aborts when the stream stops early or fails.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const bodies = stream(urls).map((url, _i, signal) => fetch(url, { signal }), { concurrency: 8 });
   * ```
   */
  map<R>(
    fn: (item: T, index: number, signal: AbortSignal) => R | PromiseLike<R>,
    options?: StreamMapOptions,
  ): Stream<Awaited<R>> {
    expectFunction("`fn`", fn);
    const spec = checkMapOptions(options);
    return this.#pipe((up, ctx) => mapStage<Awaited<R>>(up, fn, MAP, spec, ctx));
  }

  /**
   * Keeps the items for which `fn(item, index, signal)` is truthy (it may be
   * async). Concurrency and order as for {@link Stream.map}.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const alive = stream(hosts).filter((host, _i, signal) => ping(host, { signal }), { concurrency: 32 });
   * ```
   */
  filter<S extends T>(
    fn: (item: T, index: number, signal: AbortSignal) => item is S,
    options?: StreamMapOptions,
  ): Stream<S>;
  filter(
    fn: (item: T, index: number, signal: AbortSignal) => unknown,
    options?: StreamMapOptions,
  ): Stream<T>;
  filter(
    fn: (item: T, index: number, signal: AbortSignal) => unknown,
    options?: StreamMapOptions,
  ): Stream<T> {
    expectFunction("`fn`", fn);
    const spec = checkMapOptions(options);
    return this.#pipe((up, ctx) => mapStage<T>(up, fn, FILTER, spec, ctx));
  }

  /**
   * Maps each item to an iterable (or async iterable, or stream) and yields
   * their items. With `concurrency` > 1, up to that many calls of `fn` run at
   * once; the iterables they return are drained one after another (in input
   * order, or in the order they are ready with `ordered: false`). To
   * interleave lazy inner streams, use {@link merge}.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const items = stream(pageUrls).flatMap((url, _i, signal) => fetchItems(url, { signal }), { concurrency: 4 });
   * ```
   */
  flatMap<R>(
    fn: (
      item: T,
      index: number,
      signal: AbortSignal,
    ) => StreamSource<R> | PromiseLike<StreamSource<R>>,
    options?: StreamMapOptions,
  ): Stream<R> {
    expectFunction("`fn`", fn);
    const spec = checkMapOptions(options);
    return this.#pipe((up, ctx) => new FlattenStage<R>(mapStage(up, fn, MAP, spec, ctx), ctx));
  }

  /**
   * Calls `fn(item, index, signal)` for each item (awaiting it when it returns
   * a promise) and passes the item on unchanged.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const logged = stream(jobs).tap((job) => console.log("processing", job.id));
   * ```
   */
  tap(fn: (item: T, index: number, signal: AbortSignal) => unknown): Stream<T> {
    expectFunction("`fn`", fn);
    return this.#pipe((up, ctx) => mapStage<T>(up, fn, TAP, SERIAL, ctx));
  }

  /**
   * The first `limit` items. Once it has them, it closes the stream before
   * it (cancelling work ahead) without pulling another item.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const firstTen = await stream(numbers()).take(10).toArray();
   * ```
   */
  take(limit: number): Stream<T> {
    expectNumber("`limit`", limit, { integer: true, allowInfinity: true });
    return this.#pipe((up, ctx) => new TakeStage<T>(up, limit, ctx));
  }

  /**
   * Every item but the first `count`.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const rows = stream(lines).drop(1); // skip the header
   * ```
   */
  drop(count: number): Stream<T> {
    expectNumber("`count`", count, { integer: true, allowInfinity: true });
    return this.#pipe((up, ctx) => new DropStage<T>(up, count, ctx));
  }

  /**
   * Groups items into arrays of `size` (the last may be shorter), or of what
   * came within `maxWait` ms of a batch's first item. An error of the source
   * fails the stream at once (the unfinished batch is dropped).
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * for await (const rows of stream(events).batch(500, { maxWait: 1_000 })) await db.insert(rows);
   * ```
   */
  batch(size: number, options?: StreamBatchOptions): Stream<T[]> {
    const maxWait = checkBatchOptions(size, options);
    return this.#pipe((up, ctx) => new BatchStage<T>(up, size, maxWait, ctx));
  }

  /**
   * Reads up to `size` items ahead of the consumer (from its first pull on),
   * so producer and consumer work at the same time.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const smooth = stream(readChunks()).buffer(16);
   * ```
   */
  buffer(size: number): Stream<T> {
    expectNumber("`size`", size, { min: 1, integer: true, allowInfinity: true });
    return this.#pipe((up, ctx) => new BufferStage<T>(up, size, ctx));
  }

  /**
   * Passes items on at most `limit` per sliding `interval` ms (waiting as
   * needed, on aiokit's clock). Takes a shared `RateLimiter` too.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const paced = stream(messages).throttle({ limit: 10, interval: 1_000 });
   * ```
   */
  throttle(options: RateOption): Stream<T> {
    const rate = throttleRate(options);
    return this.#pipe((up, ctx) => new ThrottleStage<T>(up, rate(), ctx));
  }

  /**
   * Fails with a `TimeoutError` when an item (or the end) takes longer than
   * `ms` to arrive from the stage before.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * for await (const message of stream(socketMessages).timeout(30_000)) handle(message);
   * ```
   */
  timeout(ms: number): Stream<T> {
    expectNumber("`ms`", ms, { allowInfinity: true });
    return this.#pipe((up, ctx) => new TimeoutStage<T>(up, ms, ctx));
  }

  /**
   * When the stream before fails, calls `handler(error)` and goes on with the
   * items of the source it returns, or ends when it returns nothing. The
   * iteration's own cancellation (its signal's reason) is not caught.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const safe = stream(readLog()).catch((error) => { console.warn(error); });
   * const withFallback = stream(fetchLive()).catch(() => cachedItems);
   * ```
   */
  catch<U = never>(
    handler: (error: unknown) => CatchResult<U> | PromiseLike<CatchResult<U>>,
  ): Stream<T | U> {
    expectFunction("`handler`", handler);
    return this.#pipe((up, ctx) => new CatchStage<T | U>(up, handler, ctx));
  }

  /**
   * Collects every item into an array.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const all = await stream(source).toArray({ signal: AbortSignal.timeout(5_000) });
   * ```
   */
  toArray(options?: StreamTerminalOptions): Promise<T[]> {
    return toArray(this.#opener, options?.signal);
  }

  /**
   * Folds the items with `fn(accumulator, item, index)` (it may be async),
   * starting from `initial`, or from the first item when there is none (an
   * empty stream then rejects with a TypeError).
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const total = await stream(orders).reduce((sum, order) => sum + order.amount, 0);
   * ```
   */
  reduce<A>(
    fn: (accumulator: A, item: T, index: number) => A | PromiseLike<A>,
    initial: A,
    options?: StreamTerminalOptions,
  ): Promise<A>;
  reduce(fn: (accumulator: T, item: T, index: number) => T | PromiseLike<T>): Promise<T>;
  reduce(reducer: Reducer<T>, ...rest: unknown[]): Promise<unknown> {
    return reduce(this.#opener, reducer, rest);
  }

  /**
   * Calls `fn(item, index, signal)` for every item, up to `concurrency` at
   * once (as {@link Stream.map}; `ordered` has no effect: there are no
   * results), and resolves when all are done. The first error rejects.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * await stream(files).forEach((file, _i, signal) => upload(file, { signal }), { concurrency: 4 });
   * ```
   */
  async forEach(
    fn: (item: T, index: number, signal: AbortSignal) => unknown,
    options?: StreamForEachOptions,
  ): Promise<void> {
    expectFunction("`fn`", fn);
    const spec = { ...checkMapOptions(options), ordered: false };
    const stage = this.#pipe((up, ctx) => mapStage(up, fn, TAP, spec, ctx));
    await consume(stage.#opener, options?.signal, () => true);
  }

  /**
   * True as soon as `fn(item, index)` is truthy for an item (the rest of the
   * stream is then closed), false when none is.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const anyFailed = await stream(results).some((r) => r.status === "failed");
   * ```
   */
  some(fn: (item: T, index: number) => unknown, options?: StreamTerminalOptions): Promise<boolean> {
    return test(this.#opener, fn, options?.signal, true);
  }

  /**
   * False as soon as `fn(item, index)` is falsy for an item (the rest of the
   * stream is then closed), true when it holds for all.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const allOk = await stream(checks).every((check) => check.ok);
   * ```
   */
  every(
    fn: (item: T, index: number) => unknown,
    options?: StreamTerminalOptions,
  ): Promise<boolean> {
    return test(this.#opener, fn, options?.signal, false);
  }

  /**
   * The first item for which `fn(item, index)` is truthy (the rest of the
   * stream is then closed), or undefined.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const admin = await stream(users()).find((user) => user.role === "admin");
   * ```
   */
  find<S extends T>(
    fn: (item: T, index: number) => item is S,
    options?: StreamTerminalOptions,
  ): Promise<S | undefined>;
  find(
    fn: (item: T, index: number) => unknown,
    options?: StreamTerminalOptions,
  ): Promise<T | undefined>;
  find(fn: ItemTest<T>, options?: StreamTerminalOptions): Promise<T | undefined> {
    return find(this.#opener, fn, options?.signal);
  }

  /**
   * A web `ReadableStream` of the items, pulled lazily (nothing is read before the reader asks);
   * cancelling it closes the iteration. For `new Response(…)`, `fetch` bodies, `Readable.fromWeb`.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * const body = stream(rows).map((row) => new TextEncoder().encode(JSON.stringify(row) + "\n"));
   * const response = new Response(body.toReadableStream(), { headers: { "content-type": "application/x-ndjson" } });
   * ```
   */
  toReadableStream(): ReadableStream<T> {
    return toReadableStream(this.#opener);
  }
}
