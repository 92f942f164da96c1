/**
 * Turning what `stream()` accepts into one async iterator: sync iterables
 * (their promises awaited), async iterables (Node readable streams among
 * them: they are async iterable), web `ReadableStream`s (read through a
 * reader, so it works where they are not async iterable, and cancelled when
 * the stream stops early).
 * @module
 */
import {
  type Context,
  close,
  closeReason,
  DONE,
  DONE_PROMISE,
  iteratorOf,
} from "../_internal/iterators.js";
import { isThenable } from "../_internal/thenable.js";

/**
 * What `stream()` accepts: any iterable (items may be promises: they are
 * awaited, as `for await` does), any async iterable (an async generator, a
 * Node readable stream, another `Stream`), or a web `ReadableStream`.
 */
export type StreamSource<T> = Iterable<T | PromiseLike<T>> | AsyncIterable<T> | ReadableStream<T>;

interface ReadableLike<T> {
  getReader(): ReadableStreamDefaultReader<T>;
}

function isReadableLike(source: unknown): boolean {
  return (
    typeof source === "object" &&
    source !== null &&
    typeof (source as { getReader?: unknown }).getReader === "function"
  );
}

/** Opens one iteration of `source`. */
export function openSource<T>(source: StreamSource<T>, ctx: Context): AsyncIterator<T> {
  if (isReadableLike(source)) return new ReaderSource(source as unknown as ReadableLike<T>, ctx);
  const { iterator, async } = iteratorOf<T>(source, "the stream's source", true);
  if (!async) return new SyncSource(iterator as Iterator<T | PromiseLike<T>>);
  return ctx.signal === undefined
    ? (iterator as AsyncIterator<T>)
    : new SignalSource(iterator as AsyncIterator<T>, ctx);
}

/** A sync iterator as an async one; promise items are awaited (and a rejected one closes the iterator). */
class SyncSource<T> implements AsyncIterator<T> {
  readonly #iterator: Iterator<T | PromiseLike<T>>;
  #done = false;

  constructor(iterator: Iterator<T | PromiseLike<T>>) {
    this.#iterator = iterator;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    let step: IteratorResult<T | PromiseLike<T>>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      this.#done = true;
      return Promise.reject(error);
    }
    if (step.done === true) {
      this.#done = true;
      return DONE_PROMISE;
    }
    const value = step.value;
    if (!isThenable(value)) return Promise.resolve({ value, done: false });
    return Promise.resolve(value).then(
      (item) => ({ value: item, done: false }),
      async (error: unknown) => {
        this.#done = true;
        await close(this.#iterator).catch(() => undefined);
        throw error;
      },
    );
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    this.#done = true;
    return close(this.#iterator).then(() => DONE);
  }
}

/**
 * An async iterator under a signal: `return()` settles a pending `next()` at
 * once (rejecting with the signal's reason when it aborted), because the
 * source may be stuck in it (an idle socket, a silent generator).
 *
 * Note: a source stuck in `next()` is asked to close (its `return()` is
 * called) but not waited for: an async generator can't run `return()` until
 * its pending `next()` finishes.
 */
class SignalSource<T> implements AsyncIterator<T> {
  readonly #iterator: AsyncIterator<T>;
  readonly #ctx: Context;
  #done = false;
  #busy = false;
  #settle: ((result: IteratorResult<T> | undefined, error?: unknown) => void) | undefined;

  constructor(iterator: AsyncIterator<T>, ctx: Context) {
    this.#iterator = iterator;
    this.#ctx = ctx;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      let settled = false;
      const settle = (result: IteratorResult<T> | undefined, error?: unknown): void => {
        if (settled) return;
        settled = true;
        this.#settle = undefined;
        if (result === undefined) reject(error);
        else resolve(result);
      };
      this.#settle = settle;
      this.#busy = true;
      let pending: Promise<IteratorResult<T>>;
      try {
        pending = Promise.resolve(this.#iterator.next());
      } catch (error) {
        this.#busy = false;
        this.#done = true;
        settle(undefined, error);
        return;
      }
      pending.then(
        (result) => {
          this.#busy = false;
          if (result.done === true) this.#done = true;
          settle(result);
        },
        (error: unknown) => {
          this.#busy = false;
          this.#done = true;
          settle(undefined, error);
        },
      );
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    this.#done = true;
    if (this.#busy) {
      const signal = this.#ctx.signal;
      this.#settle?.(signal?.aborted ? undefined : DONE, closeReason(this.#ctx));
      close(this.#iterator).catch(() => undefined);
      return DONE_PROMISE;
    }
    return close(this.#iterator).then(() => DONE);
  }
}

/** A web `ReadableStream` read through a reader; `return()` cancels the stream. */
class ReaderSource<T> implements AsyncIterator<T> {
  readonly #stream: ReadableLike<T>;
  readonly #ctx: Context;
  #reader: ReadableStreamDefaultReader<T> | undefined;
  #done = false;

  constructor(stream: ReadableLike<T>, ctx: Context) {
    this.#stream = stream;
    this.#ctx = ctx;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE_PROMISE;
    let reader = this.#reader;
    if (reader === undefined) {
      try {
        reader = this.#stream.getReader();
      } catch (error) {
        this.#done = true;
        return Promise.reject(error);
      }
      this.#reader = reader;
    }
    return reader.read().then(
      (result): IteratorResult<T> => {
        if (result.done) {
          this.#finish();
          return DONE;
        }
        return { value: result.value, done: false };
      },
      (error: unknown) => {
        this.#finish();
        throw error;
      },
    );
  }

  async return(): Promise<IteratorResult<T>> {
    if (this.#done) return DONE;
    this.#done = true;
    const reader = this.#reader ?? this.#stream.getReader();
    this.#reader = undefined;
    try {
      await reader.cancel(closeReason(this.#ctx));
    } finally {
      reader.releaseLock();
    }
    return DONE;
  }

  #finish(): void {
    this.#done = true;
    this.#reader?.releaseLock();
    this.#reader = undefined;
  }
}
