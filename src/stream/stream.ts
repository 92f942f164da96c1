import {
  addAbortListener,
  noop,
  removeAbortListener,
  sharedController,
} from "../_internal/abort.js";
import { describe, expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import type { Context } from "../_internal/iterators.js";
import { isThenable } from "../_internal/thenable.js";
import { type RateOption, toRateLimiter } from "../limit/rate-limiter.js";
import { BatchStage, BufferStage } from "./batching.js";
import { type CatchResult, CatchStage } from "./catch.js";
import { MergeStage, ZipStage } from "./combine.js";
import { ConcurrentStage } from "./concurrent.js";
import { Guard } from "./guard.js";
import {
  checkPushSetup,
  type EventSourceLike,
  type EventSourceOptions,
  eventSetup,
  type PushSetup,
  PushSource,
  type PushSourceOptions,
} from "./push-source.js";
import { FILTER, FlattenStage, MAP, SerialMapStage, TAP } from "./serial.js";
import { DropStage, TakeStage } from "./slicing.js";
import { openSource, type StreamSource } from "./sources.js";
import { ThrottleStage, TimeoutStage } from "./timing.js";

/** Options of {@link stream} and `new Stream()`. */
export interface StreamOptions {
  /**
   * Aborting it cancels every iteration of the stream (and of streams derived
   * from it): running functions' signals abort, the source is closed, and the
   * consumer's `for await` rejects with the signal's reason.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Stream.map}, {@link Stream.filter} and {@link Stream.flatMap}. */
export interface StreamMapOptions {
  /** Most calls running at once: an integer from 1 and up, or `Infinity` (default 1). */
  readonly concurrency?: number | undefined;
  /**
   * Keep input order (default true). With false, results come as they finish;
   * either way at most `concurrency` items are between the source and you.
   */
  readonly ordered?: boolean | undefined;
  /** Also limit how often the function starts: a shared `RateLimiter` or `{ limit, interval }` (one per iteration). */
  readonly rate?: RateOption | undefined;
}

/** Options of the terminal methods (`toArray`, `reduce`, `some`, …). */
export interface StreamTerminalOptions {
  /** Aborting it stops the iteration (as `stream(source, { signal })` does) and rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Stream.forEach}. */
export interface StreamForEachOptions extends StreamMapOptions, StreamTerminalOptions {}

/** Options of {@link Stream.batch}. */
export interface StreamBatchOptions {
  /** Also hand out a batch when this many ms have passed since its first item arrived. */
  readonly maxWait?: number | undefined;
}

/** A stream's item type: what `for await` gives for a source. */
export type ItemOf<S> =
  S extends ReadableStream<infer T>
    ? T
    : S extends AsyncIterable<infer T>
      ? T
      : S extends Iterable<infer T>
        ? Awaited<T>
        : never;

type Build<T> = (ctx: Context) => AsyncIterator<T>;

/** Internal: how derived streams are made (not a source). */
class Recipe<T> {
  constructor(readonly build: Build<T>) {}
}

function isSource(value: unknown): boolean {
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

function checkMapOptions(options: StreamMapOptions | undefined): {
  concurrency: number;
  ordered: boolean;
  rate: () => ReturnType<typeof toRateLimiter>;
} {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  }
  const concurrency = options?.concurrency ?? 1;
  expectNumber("`concurrency`", concurrency, { min: 1, integer: true, allowInfinity: true });
  const ordered = options?.ordered ?? true;
  if (typeof ordered !== "boolean") {
    throw new TypeError(`Expected \`ordered\` to be a boolean, got ${describe(ordered)}`);
  }
  const option = options?.rate;
  const shared = toRateLimiter(option); // validates eagerly
  // Plain `{ limit, interval }` gives each iteration its own limiter.
  const rate = shared === option ? () => shared : () => toRateLimiter(option);
  return { concurrency, ordered, rate };
}

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
 *
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
   * @param source - An iterable, async iterable (a Node readable stream too)
   * or web `ReadableStream`.
   * @throws TypeError when `source` is none of these.
   */
  constructor(source: StreamSource<T>, options?: StreamOptions);
  constructor(source: StreamSource<T> | Recipe<T>, options: StreamOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Expected stream options to be an object, got ${describe(options)}`);
    }
    expectSignal(options.signal);
    this.#signal = options.signal;
    if (source instanceof Recipe) {
      this.#build = source.build;
      return;
    }
    if (!isSource(source)) {
      throw new TypeError(
        `Expected the stream's source to be an iterable, an async iterable or a ReadableStream, got ${describe(source)}`,
      );
    }
    this.#build = (ctx) => openSource(source, ctx);
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
   * A stream of values pushed by callbacks, with a bounded buffer in between:
   * `setup(sink)` runs when an iteration starts, calls `sink.push(value)` as
   * values arrive, then `sink.end()` or `sink.fail(error)`, and may return a
   * teardown function (called once when the stream stops, however it stops).
   * While the consumer is busy, up to `bufferSize` values wait (default
   * 1024); `push` returns false when the producer should pause, and
   * `await sink.waitReady()` waits for room. A value that arrives at a full
   * buffer meets the `overflow` policy: `"error"` (default: the stream fails
   * with a RangeError), `"drop-newest"` or `"drop-oldest"`. `sink.signal`
   * aborts when the consumer stops.
   *
   * @example
   * ```ts
   * import { Stream } from "aiokit";
   * const ticks = Stream.fromPush<number>((sink) => {
   *   let n = 0;
   *   const id = setInterval(() => sink.push(n++), 100);
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
   * A stream of the events of `type` that `target` emits: a DOM
   * `EventTarget` (items are the `Event`s) or a Node-style emitter with
   * `on`/`off` (items are each event's first argument). Listening starts when
   * an iteration starts and stops when it ends. Events in `endOn` end the
   * stream; events in `errorOn` fail it (default: `"error"` for emitters).
   * Buffering and overflow as for {@link Stream.fromPush}.
   *
   * @example
   * ```ts
   * import { Stream } from "aiokit";
   * const socket = new WebSocket(url);
   * const messages = Stream.fromEvent<MessageEvent>(socket, "message", { endOn: "close", errorOn: "error" });
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
    return this.#open(undefined);
  }

  #open(extra: AbortSignal | undefined): AsyncIterator<T> {
    const own = this.#signal;
    let signal = own ?? extra;
    let unlink = noop;
    if (own !== undefined && extra !== undefined && own !== extra) {
      const controller = sharedController();
      if (own.aborted) controller.abort(own.reason);
      else if (extra.aborted) controller.abort(extra.reason);
      else {
        const onOwn = (): void => controller.abort(own.reason);
        const onExtra = (): void => controller.abort(extra.reason);
        addAbortListener(own, onOwn);
        addAbortListener(extra, onExtra);
        unlink = () => {
          removeAbortListener(own, onOwn);
          removeAbortListener(extra, onExtra);
        };
      }
      signal = controller.signal;
    }
    if (signal === undefined) return this.#build({ signal });
    const ctx = { signal };
    try {
      return new Guard(this.#build(ctx), ctx, unlink);
    } catch (error) {
      unlink();
      throw error;
    }
  }

  #pipe<R>(stage: (up: AsyncIterator<T>, ctx: Context) => AsyncIterator<R>): Stream<R> {
    const build = this.#build;
    return new Stream<R>(
      new Recipe<R>((ctx) => stage(build(ctx), ctx)) as unknown as StreamSource<R>,
      { signal: this.#signal },
    );
  }

  /**
   * Maps each item through `fn(item, index, signal)`. With `concurrency` > 1,
   * up to that many calls run at once; results keep input order unless
   * `ordered: false`. `signal` is shared by the calls of one iteration and
   * aborts when the stream stops early or fails.
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
    const { concurrency, ordered, rate } = checkMapOptions(options);
    const call = fn as (item: unknown, index: number, signal: AbortSignal) => unknown;
    return this.#pipe((up, ctx) =>
      concurrency === 1
        ? new SerialMapStage<Awaited<R>>(up, call, MAP, rate(), ctx)
        : new ConcurrentStage<Awaited<R>>(
            up,
            { fn: call, filter: false, concurrency, ordered, rate: rate() },
            ctx,
          ),
    );
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
    const { concurrency, ordered, rate } = checkMapOptions(options);
    const call = fn as (item: unknown, index: number, signal: AbortSignal) => unknown;
    return this.#pipe((up, ctx) =>
      concurrency === 1
        ? new SerialMapStage<T>(up, call, FILTER, rate(), ctx)
        : new ConcurrentStage<T>(
            up,
            { fn: call, filter: true, concurrency, ordered, rate: rate() },
            ctx,
          ),
    );
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
    const { concurrency, ordered, rate } = checkMapOptions(options);
    const call = fn as (item: unknown, index: number, signal: AbortSignal) => unknown;
    return this.#pipe((up, ctx) => {
      const mapped =
        concurrency === 1
          ? new SerialMapStage<unknown>(up, call, MAP, rate(), ctx)
          : new ConcurrentStage<unknown>(
              up,
              { fn: call, filter: false, concurrency, ordered, rate: rate() },
              ctx,
            );
      return new FlattenStage<R>(mapped, ctx);
    });
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
    const call = fn as (item: unknown, index: number, signal: AbortSignal) => unknown;
    return this.#pipe((up, ctx) => new SerialMapStage<T>(up, call, TAP, undefined, ctx));
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
   * Groups items into arrays of `size` (the last may be shorter). With
   * `maxWait`, a batch is also handed out `maxWait` ms after its first item
   * arrived, full or not. An error of the source fails the stream at once
   * (the unfinished batch is dropped).
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * for await (const rows of stream(events).batch(500, { maxWait: 1_000 })) await db.insert(rows);
   * ```
   */
  batch(size: number, options?: StreamBatchOptions): Stream<T[]> {
    expectNumber("`size`", size, { min: 1, integer: true, allowInfinity: true });
    const maxWait = options?.maxWait;
    if (maxWait !== undefined) expectNumber("`maxWait`", maxWait, { allowInfinity: true });
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
    const shared = toRateLimiter(options);
    if (shared === undefined) {
      throw new TypeError(
        `Expected throttle options like { limit, interval }, got ${describe(options)}`,
      );
    }
    const rate = shared === options ? () => shared : () => toRateLimiter(options) ?? shared;
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

  // Runs one iteration to the end (or until `onItem` returns false), closing it if it stops early.
  async #consume(
    signal: AbortSignal | undefined,
    onItem: (item: T, index: number) => boolean | PromiseLike<boolean>,
  ): Promise<void> {
    expectSignal(signal);
    if (signal?.aborted) throw signal.reason;
    const iterator = this.#open(signal);
    let index = 0;
    for (;;) {
      const result = await iterator.next();
      if (result.done === true) return;
      let go: boolean | PromiseLike<boolean>;
      try {
        go = onItem(result.value, index++);
        if (isThenable(go)) go = await go;
      } catch (error) {
        await iterator.return?.().catch(noop);
        throw error;
      }
      if (!go) {
        await iterator.return?.();
        return;
      }
    }
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
  async toArray(options?: StreamTerminalOptions): Promise<T[]> {
    const items: T[] = [];
    await this.#consume(options?.signal, (item) => {
      items.push(item);
      return true;
    });
    return items;
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
  async reduce(
    reducer: (accumulator: never, item: T, index: number) => unknown,
    ...rest: unknown[]
  ): Promise<unknown> {
    expectFunction("`fn`", reducer);
    const fn = reducer as (accumulator: unknown, item: T, index: number) => unknown;
    let has = rest.length > 0;
    let accumulator = rest[0];
    const options = rest[1] as StreamTerminalOptions | undefined;
    await this.#consume(options?.signal, async (item, index) => {
      if (!has) {
        has = true;
        accumulator = item;
        return true;
      }
      accumulator = await fn(accumulator, item, index);
      return true;
    });
    if (!has) throw new TypeError("Cannot reduce an empty stream without an initial value");
    return accumulator;
  }

  /**
   * Calls `fn(item, index, signal)` for every item and resolves when all are
   * done. With `concurrency` > 1, up to that many calls run at once (as
   * {@link Stream.map}; `ordered` has no effect here, since there are no
   * results to order). The first error stops the iteration and rejects.
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
    const { concurrency, rate } = checkMapOptions(options);
    const call = fn as (item: unknown, index: number, signal: AbortSignal) => unknown;
    const stage = this.#pipe((up, ctx) =>
      concurrency === 1
        ? new SerialMapStage<unknown>(up, call, TAP, rate(), ctx)
        : new ConcurrentStage<unknown>(
            up,
            { fn: call, filter: false, concurrency, ordered: false, rate: rate() },
            ctx,
          ),
    );
    await stage.#consume(options?.signal, () => true);
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
  async some(
    fn: (item: T, index: number) => unknown,
    options?: StreamTerminalOptions,
  ): Promise<boolean> {
    expectFunction("`fn`", fn);
    let found = false;
    await this.#consume(options?.signal, async (item, index) => {
      found = Boolean(await fn(item, index));
      return !found;
    });
    return found;
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
  async every(
    fn: (item: T, index: number) => unknown,
    options?: StreamTerminalOptions,
  ): Promise<boolean> {
    expectFunction("`fn`", fn);
    let all = true;
    await this.#consume(options?.signal, async (item, index) => {
      all = Boolean(await fn(item, index));
      return all;
    });
    return all;
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
  async find(
    fn: (item: T, index: number) => unknown,
    options?: StreamTerminalOptions,
  ): Promise<T | undefined> {
    expectFunction("`fn`", fn);
    let found: T | undefined;
    await this.#consume(options?.signal, async (item, index) => {
      if (!(await fn(item, index))) return true;
      found = item;
      return false;
    });
    return found;
  }

  /**
   * A web `ReadableStream` of the items, pulled lazily (nothing is read
   * before the reader asks); cancelling it closes the iteration. Hand it to
   * `new Response(…)`, `fetch` bodies or Node's `Readable.fromWeb`.
   *
   * @example
   * ```ts
   * import { stream } from "aiokit";
   * function ndjson(): Response {
   *   const body = stream(rows).map((row) => new TextEncoder().encode(JSON.stringify(row) + "\n"));
   *   return new Response(body.toReadableStream(), { headers: { "content-type": "application/x-ndjson" } });
   * }
   * ```
   */
  toReadableStream(): ReadableStream<T> {
    let iterator: AsyncIterator<T> | undefined;
    return new ReadableStream<T>(
      {
        pull: async (controller) => {
          iterator ??= this[Symbol.asyncIterator]();
          const result = await iterator.next();
          if (result.done === true) controller.close();
          else controller.enqueue(result.value);
        },
        cancel: async () => {
          await iterator?.return?.();
        },
      },
      { highWaterMark: 0 },
    );
  }
}

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
