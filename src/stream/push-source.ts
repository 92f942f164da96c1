/**
 * Push sources: values that arrive by callback (events, sockets, observers)
 * turned into a pull-based stream, with a bounded buffer in between.
 * @module
 */
import { describe, expectFunction, expectNumber } from "../_internal/describe.js";
import { Failure } from "../_internal/failure.js";
import { type Context, closeReason, DONE_PROMISE } from "../_internal/iterators.js";
import { PendingNext } from "../_internal/pending-next.js";
import { Ring } from "../_internal/ring.js";
import { isThenable } from "../_internal/thenable.js";

/**
 * What a push source does when a value arrives and its buffer is full:
 * `"error"` fails the stream with a `RangeError` (nothing is lost silently),
 * `"drop-newest"` drops the arriving value, `"drop-oldest"` drops the oldest
 * buffered one (keeps the most recent values).
 */
export type Overflow = "error" | "drop-newest" | "drop-oldest";

/** Options of `Stream.fromPush()` and `Stream.fromEvent()`. */
export interface PushSourceOptions {
  /** Most values held while the consumer is busy: an integer from 1 and up, or `Infinity` (default 1024). */
  readonly bufferSize?: number | undefined;
  /** What to do when a value arrives and the buffer is full (default `"error"`). */
  readonly overflow?: Overflow | undefined;
}

/**
 * The producer's side of `Stream.fromPush()`: push values, then end or fail.
 * Calls after the stream ended (or after the consumer stopped) are ignored.
 */
export interface PushSink<T> {
  /**
   * Offers a value. Returns true while the buffer has room for more, false
   * when the producer should pause (then `await sink.waitReady()`): that is
   * the backpressure. A value pushed into a full buffer meets the `overflow`
   * policy.
   */
  push(value: T): boolean;
  /** Ends the stream after the values already pushed. */
  end(): void;
  /** Fails the stream with `error` after the values already pushed. */
  fail(error: unknown): void;
  /** Resolves when the buffer has room again, or when the stream stops (check `signal`). Never rejects. */
  waitReady(): Promise<void>;
  /** Free room in the buffer now (0 when full). */
  readonly desiredSize: number;
  /** Aborted when the consumer stops (it broke out, failed or was cancelled): stop producing. */
  readonly signal: AbortSignal;
}

/** Sets up a push source; may return a teardown function, called once when the stream stops. */
export type PushSetup<T> = (sink: PushSink<T>) => void | (() => void) | PromiseLike<void>;

/** Something that emits events: a DOM `EventTarget` or a Node-style emitter. */
export type EventSourceLike =
  | {
      addEventListener(type: string, listener: (event: Event) => void): void;
      removeEventListener(type: string, listener: (event: Event) => void): void;
    }
  | {
      on(type: string, listener: (...args: unknown[]) => void): unknown;
      off(type: string, listener: (...args: unknown[]) => void): unknown;
    }
  | {
      addListener(type: string, listener: (...args: unknown[]) => void): unknown;
      removeListener(type: string, listener: (...args: unknown[]) => void): unknown;
    };

/** Options of `Stream.fromEvent()`. */
export interface EventSourceOptions extends PushSourceOptions {
  /** Event type(s) that end the stream. */
  readonly endOn?: string | readonly string[] | undefined;
  /**
   * Event type(s) that fail the stream, with the event (the first argument,
   * for an emitter) as the error. Default: `"error"` for a Node-style
   * emitter, none for an `EventTarget`.
   */
  readonly errorOn?: string | readonly string[] | undefined;
}

const DEFAULT_BUFFER = 1024;

/** Validates push options eagerly (at `Stream.fromPush()`, not at the first pull). */
export function checkPushOptions(options: PushSourceOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected push source options to be an object, got ${describe(options)}`);
  }
  if (options.bufferSize !== undefined) {
    expectNumber("`bufferSize`", options.bufferSize, {
      min: 1,
      integer: true,
      allowInfinity: true,
    });
  }
  const overflow = options.overflow;
  if (
    overflow !== undefined &&
    overflow !== "error" &&
    overflow !== "drop-newest" &&
    overflow !== "drop-oldest"
  ) {
    throw new TypeError(
      `Expected \`overflow\` to be "error", "drop-newest" or "drop-oldest", got ${describe(overflow)}`,
    );
  }
}

/** One iteration of a push source: setup runs at the first `next()`. */
export class PushSource<T> implements AsyncIterator<T> {
  readonly #setup: PushSetup<T>;
  readonly #ctx: Context;
  readonly #size: number;
  readonly #overflow: Overflow;
  readonly #buffer = new Ring<T>(16);
  readonly #controller = new AbortController();
  #started = false;
  #ended = false; // end() or fail() was called: no more values
  readonly #failure = new Failure();
  #closed = false; // the consumer got the end (or stopped): all done
  #teardown: (() => void) | undefined;
  readonly #pending = new PendingNext<T>();
  #ready: (() => void)[] = [];

  constructor(setup: PushSetup<T>, options: PushSourceOptions, ctx: Context) {
    this.#setup = setup;
    this.#ctx = ctx;
    this.#size = options.bufferSize ?? DEFAULT_BUFFER;
    this.#overflow = options.overflow ?? "error";
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#closed) return DONE_PROMISE;
    if (this.#pending.parked) {
      return Promise.reject(new TypeError("A push source is read one next() at a time"));
    }
    if (!this.#started) this.#start();
    if (this.#buffer.size > 0) {
      const value = this.#buffer.shift() as T;
      this.#wakeProducers();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return this.#finish();
    return this.#pending.park();
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#closed) return DONE_PROMISE;
    this.#closed = true;
    this.#buffer.drain();
    this.#stopProducer();
    this.#pending.cancel(this.#ctx.signal);
    return DONE_PROMISE;
  }

  #start(): void {
    this.#started = true;
    const room = (): number => this.#room();
    const sink: PushSink<T> = {
      push: (value) => this.#push(value),
      end: () => this.#end(false, undefined),
      fail: (error) => this.#end(true, error),
      waitReady: () => this.#waitReady(),
      signal: this.#controller.signal,
      get desiredSize() {
        return room();
      },
    };
    try {
      const result = this.#setup(sink);
      if (typeof result === "function") {
        if (this.#ended || this.#closed) result();
        else this.#teardown = result;
      } else if (isThenable(result)) {
        result.then(undefined, (error: unknown) => this.#end(true, error));
      }
    } catch (error) {
      this.#end(true, error);
    }
  }

  #room(): number {
    if (this.#ended || this.#closed) return 0;
    return Math.max(0, this.#size - this.#buffer.size);
  }

  #push(value: T): boolean {
    if (this.#ended || this.#closed) return false;
    if (this.#pending.deliver(value)) return true;
    if (this.#buffer.size >= this.#size) {
      if (this.#overflow === "drop-newest") return false;
      if (this.#overflow === "drop-oldest") {
        this.#buffer.shift();
        this.#buffer.push(value);
        return false;
      }
      this.#end(
        true,
        new RangeError(
          `Push source overflowed: more than ${this.#size} values arrived while the consumer was busy`,
        ),
      );
      return false;
    }
    this.#buffer.push(value);
    return this.#buffer.size < this.#size;
  }

  #end(failed: boolean, error: unknown): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    if (failed) this.#failure.fail(error);
    this.#stopProducer();
    if (this.#pending.parked && this.#buffer.size === 0) this.#pending.settle(this.#finish());
  }

  // The consumer reached the end: done, or the error (once).
  #finish(): Promise<IteratorResult<T>> {
    this.#closed = true;
    return this.#failure.end();
  }

  #stopProducer(): void {
    this.#controller.abort(closeReason(this.#ctx));
    const teardown = this.#teardown;
    this.#teardown = undefined;
    this.#wakeProducers(true);
    teardown?.();
  }

  #waitReady(): Promise<void> {
    if (this.#room() > 0 || this.#ended || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.#ready.push(resolve));
  }

  #wakeProducers(all = false): void {
    if (this.#ready.length === 0 || (!all && this.#room() === 0)) return;
    const ready = this.#ready;
    this.#ready = [];
    for (const resolve of ready) resolve();
  }
}

/** The setup `Stream.fromEvent()` uses: listen, push, and stop listening at the end. */
export function eventSetup<E>(
  target: EventSourceLike,
  type: string,
  options: EventSourceOptions,
): PushSetup<E> {
  if (typeof target !== "object" || target === null) {
    throw new TypeError(
      `Expected \`target\` to be an EventTarget or an emitter, got ${describe(target)}`,
    );
  }
  const t = target as Record<string, unknown>;
  let add: (type: string, listener: (...args: unknown[]) => void) => unknown;
  let remove: (type: string, listener: (...args: unknown[]) => void) => unknown;
  let emitter = true;
  if (typeof t.addEventListener === "function" && typeof t.removeEventListener === "function") {
    add = (type, listener) =>
      (t.addEventListener as (...a: unknown[]) => void).call(target, type, listener);
    remove = (type, listener) =>
      (t.removeEventListener as (...a: unknown[]) => void).call(target, type, listener);
    emitter = false;
  } else if (typeof t.on === "function" && typeof t.off === "function") {
    add = (type, listener) => (t.on as (...a: unknown[]) => unknown).call(target, type, listener);
    remove = (type, listener) =>
      (t.off as (...a: unknown[]) => unknown).call(target, type, listener);
  } else if (typeof t.addListener === "function" && typeof t.removeListener === "function") {
    add = (type, listener) =>
      (t.addListener as (...a: unknown[]) => unknown).call(target, type, listener);
    remove = (type, listener) =>
      (t.removeListener as (...a: unknown[]) => unknown).call(target, type, listener);
  } else {
    throw new TypeError(
      "Expected `target` to be an EventTarget (addEventListener) or an emitter (on/off), got an object without them",
    );
  }
  if (typeof type !== "string") {
    throw new TypeError(`Expected \`type\` to be an event name, got ${describe(type)}`);
  }
  const list = (value: string | readonly string[] | undefined): readonly string[] =>
    value === undefined ? [] : typeof value === "string" ? [value] : value;
  const endOn = list(options.endOn);
  const errorOn = options.errorOn === undefined && emitter ? ["error"] : list(options.errorOn);
  return (sink) => {
    const onValue = (value: unknown): void => {
      sink.push(value as E);
    };
    const onEnd = (): void => sink.end();
    const onError = (error: unknown): void => sink.fail(error);
    add(type, onValue);
    for (const name of endOn) add(name, onEnd);
    for (const name of errorOn) add(name, onError);
    return () => {
      remove(type, onValue);
      for (const name of endOn) remove(name, onEnd);
      for (const name of errorOn) remove(name, onError);
    };
  };
}

/** Validates `Stream.fromPush()`'s arguments. */
export function checkPushSetup(setup: unknown, options: PushSourceOptions): void {
  expectFunction("`setup`", setup);
  checkPushOptions(options);
}
