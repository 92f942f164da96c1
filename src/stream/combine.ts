import { Failure } from "../_internal/failure.js";
import { type Context, close, DONE, DONE_PROMISE } from "../_internal/iterators.js";
import { PendingNext } from "../_internal/pending-next.js";
import { Ring } from "../_internal/ring.js";
import { concurrentNext } from "./concurrent.js";
import { openSource, type StreamSource } from "./sources.js";

const IDLE = 0;
const PULLING = 1;
const HOLDING = 2; // its item waits in the ready queue
const ENDED = 3;

/**
 * Interleaves the sources' items in the order they arrive. Each source has at
 * most one `next()` in progress and one item waiting, so nothing runs further
 * ahead than one item per source. The first error (of any source) closes the
 * others and reaches the consumer once; `return()` closes them all.
 */
export class MergeStage<T> implements AsyncIterator<T> {
  readonly #sources: readonly StreamSource<unknown>[];
  readonly #ctx: Context;
  #iterators: AsyncIterator<unknown>[] = [];
  #states: number[] = [];
  #opened = false;
  readonly #ready = new Ring<unknown>(8); // source index, then item
  #live = 0; // sources not ended
  #busy = 0; // pulls and closes in progress
  #stopped = false;
  readonly #failure = new Failure();
  #closeError: unknown;
  #hasCloseError = false;
  #finished = false;
  readonly #pending = new PendingNext<T>();
  #returned: Promise<IteratorResult<T>> | undefined;
  #returnSettle: (() => void) | undefined;

  constructor(sources: readonly StreamSource<unknown>[], ctx: Context) {
    this.#sources = sources;
    this.#ctx = ctx;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#finished) return DONE_PROMISE;
    if (this.#pending.parked) return concurrentNext();
    if (!this.#opened) {
      try {
        this.#open();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#stopped) {
      if (this.#busy === 0) return this.#end();
    } else {
      this.#pullIdle();
      if (this.#ready.size > 0) return Promise.resolve(this.#takeReady());
      if (this.#live === 0) {
        this.#finished = true;
        return DONE_PROMISE;
      }
    }
    return this.#pending.park();
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#returned !== undefined) return this.#returned;
    if (this.#finished) return DONE_PROMISE;
    this.#returned = new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#returnSettle = () => {
        this.#finished = true;
        if (this.#hasCloseError) reject(this.#closeError);
        else resolve(DONE);
      };
    });
    this.#failure.forget();
    this.#pending.cancel(this.#ctx.signal);
    this.#stop();
    this.#check();
    return this.#returned;
  }

  #open(): void {
    this.#opened = true;
    const iterators: AsyncIterator<unknown>[] = [];
    try {
      for (const source of this.#sources) iterators.push(openSource(source, this.#ctx));
    } catch (error) {
      this.#finished = true;
      for (const iterator of iterators) close(iterator).catch(() => undefined);
      throw error;
    }
    this.#iterators = iterators;
    this.#states = iterators.map(() => IDLE);
    this.#live = iterators.length;
  }

  #pullIdle(): void {
    const states = this.#states;
    for (let i = 0; i < states.length; i++) {
      if (states[i] === IDLE) this.#pull(i);
    }
  }

  #pull(i: number): void {
    this.#states[i] = PULLING;
    this.#busy++;
    let pull: Promise<IteratorResult<unknown>>;
    try {
      pull = (this.#iterators[i] as AsyncIterator<unknown>).next();
    } catch (error) {
      pull = Promise.reject(error);
    }
    pull.then(
      (result) => this.#onResult(i, result),
      (error: unknown) => this.#onError(i, error),
    );
  }

  #onResult(i: number, result: IteratorResult<unknown>): void {
    this.#busy--;
    if (this.#stopped) {
      this.#check(); // it was closed by #stop: its item is dropped
      return;
    }
    if (result.done === true) {
      this.#states[i] = ENDED;
      this.#live--;
      if (this.#live === 0 && this.#ready.size === 0 && this.#pending.parked) {
        this.#finished = true;
        this.#pending.done();
      }
      return;
    }
    if (this.#pending.deliver(result.value as T)) {
      this.#states[i] = IDLE;
      return;
    }
    this.#states[i] = HOLDING;
    this.#ready.push(i);
    this.#ready.push(result.value);
  }

  #onError(i: number, error: unknown): void {
    this.#busy--;
    if (this.#stopped) {
      this.#check();
      return;
    }
    this.#states[i] = ENDED; // a source that threw is finished: don't close it
    this.#live--;
    this.#failure.fail(this.#ctx.signal?.aborted ? this.#ctx.signal.reason : error);
    this.#stop();
    this.#check();
  }

  #takeReady(): IteratorResult<T> {
    const i = this.#ready.shift() as number;
    const value = this.#ready.shift() as T;
    this.#states[i] = IDLE;
    return { value, done: false };
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ready.clear();
    const states = this.#states;
    for (let i = 0; i < states.length; i++) {
      if (states[i] === ENDED) continue;
      states[i] = ENDED;
      this.#busy++;
      close(this.#iterators[i] as AsyncIterator<unknown>).then(
        () => {
          this.#busy--;
          this.#check();
        },
        (error: unknown) => {
          this.#busy--;
          if (!this.#hasCloseError) {
            this.#hasCloseError = true;
            this.#closeError = error;
          }
          this.#check();
        },
      );
    }
  }

  #check(): void {
    if (!this.#stopped || this.#busy > 0) return;
    const settle = this.#returnSettle;
    if (settle !== undefined) {
      this.#returnSettle = undefined;
      settle();
      return;
    }
    if (this.#pending.parked) this.#pending.settle(this.#end());
  }

  #end(): Promise<IteratorResult<T>> {
    this.#finished = true;
    if (this.#failure.failed) return this.#failure.end();
    return this.#hasCloseError ? Promise.reject(this.#closeError) : DONE_PROMISE;
  }
}

/**
 * Tuples of one item from each source, pulled together; ends (closing the
 * others) as soon as one source ends. The first error closes the others and
 * reaches the consumer.
 */
export class ZipStage<T extends unknown[]> implements AsyncIterator<T> {
  readonly #sources: readonly StreamSource<unknown>[];
  readonly #ctx: Context;
  #iterators: AsyncIterator<unknown>[] | undefined;
  #ended: boolean[] = [];
  #finished = false;
  #round: Promise<unknown> | undefined;
  #returned: Promise<IteratorResult<T>> | undefined;

  constructor(sources: readonly StreamSource<unknown>[], ctx: Context) {
    this.#sources = sources;
    this.#ctx = ctx;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#finished) return DONE_PROMISE;
    if (this.#round !== undefined) return concurrentNext();
    const round = this.#next();
    this.#round = round;
    return round.finally(() => {
      this.#round = undefined;
    });
  }

  async #next(): Promise<IteratorResult<T>> {
    if (this.#iterators === undefined) {
      const iterators: AsyncIterator<unknown>[] = [];
      try {
        for (const source of this.#sources) iterators.push(openSource(source, this.#ctx));
      } catch (error) {
        this.#finished = true;
        await Promise.allSettled(iterators.map((iterator) => close(iterator)));
        throw error;
      }
      this.#iterators = iterators;
      this.#ended = iterators.map(() => false);
      if (iterators.length === 0) {
        this.#finished = true;
        return DONE;
      }
    }
    const iterators = this.#iterators;
    const results = await Promise.allSettled(iterators.map((iterator) => iterator.next()));
    if (this.#finished) return DONE; // closed meanwhile
    const values: unknown[] = [];
    let failure: PromiseRejectedResult | undefined;
    let ended = false;
    results.forEach((result, i) => {
      if (result.status === "rejected") {
        this.#ended[i] = true; // a source that threw is finished
        failure ??= result;
      } else if (result.value.done === true) {
        this.#ended[i] = true;
        ended = true;
      } else {
        values.push(result.value.value);
      }
    });
    if (failure === undefined && !ended) return { value: values as T, done: false };
    this.#finished = true;
    await this.#closeLive(failure !== undefined);
    if (failure !== undefined) {
      const signal = this.#ctx.signal;
      throw signal?.aborted ? signal.reason : failure.reason;
    }
    return DONE;
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#returned !== undefined) return this.#returned;
    if (this.#finished) return DONE_PROMISE;
    this.#finished = true;
    const round = this.#round;
    this.#returned = (async () => {
      const closing = this.#closeLive(false);
      if (round !== undefined) await round.then(undefined, () => undefined);
      await closing;
      return DONE;
    })();
    return this.#returned;
  }

  async #closeLive(quietly: boolean): Promise<void> {
    const iterators = this.#iterators ?? [];
    const closing = iterators.filter((_, i) => this.#ended[i] !== true).map((it) => close(it));
    iterators.forEach((_, i) => {
      this.#ended[i] = true;
    });
    const results = await Promise.allSettled(closing);
    if (quietly) return;
    for (const result of results) if (result.status === "rejected") throw result.reason;
  }
}
