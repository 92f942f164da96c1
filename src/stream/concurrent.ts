/**
 * The engine behind `map`, `filter` and `flatMap` with `concurrency` > 1: a
 * hand-written async iterator (no async generator, no closure or controller
 * per item) that keeps at most `concurrency` items between the source and the
 * consumer — pulled, running or finished and waiting — so memory stays flat
 * whatever the source's length.
 * @module
 */
import { Failure } from "../_internal/failure.js";
import { type Context, close, closeReason, DONE, DONE_PROMISE } from "../_internal/iterators.js";
import { PendingNext } from "../_internal/pending-next.js";
import { Ring } from "../_internal/ring.js";
import { Scope } from "../_internal/scope.js";
import { isThenable } from "../_internal/thenable.js";
import { CancelledError } from "../errors.js";
import type { RateLimiter } from "../limit/rate-limiter.js";

const PENDING = 0;
const KEEP = 1;
const SKIP = 2; // filtered out

/** One item's place in the window, reused for item after item (its handlers are bound once). */
interface Slot {
  state: number;
  value: unknown;
  /** The input item, kept while a filter predicate or a rate limiter decides. */
  item: unknown;
  index: number;
  onValue: (value: unknown) => void;
  onError: (error: unknown) => void;
  onTurn: () => void;
}

const NOTHING: unique symbol = Symbol("nothing");

/** What a concurrent stage runs per item. */
export interface ConcurrentSpec {
  readonly fn: (item: unknown, index: number, signal: AbortSignal) => unknown;
  /** True: `fn` is a predicate, and the stage keeps the items it accepts. */
  readonly filter: boolean;
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly rate: RateLimiter | undefined;
}

/**
 * Ordered mode keeps the slots in a ring in input order and hands out the
 * head when it is done: a slow head holds back at most `concurrency` results.
 * Unordered mode hands out results as they finish.
 *
 * Errors: the first error (of `fn` or of the source) stops pulling, aborts
 * the stage's signal, drops buffered results, closes the source (unless it is
 * the one that failed) and waits for running calls; then the consumer's
 * pending or next `next()` rejects with it, once. `return()` does the same
 * without an error and resolves when everything has settled.
 *
 * The calls in flight are the items of an `_internal/scope.ts` Scope: its
 * signal is theirs and its first cancel stops them (issue 18). The stage
 * decides its own settling, on purpose, as the scope's settle-once "wait for
 * all" cannot say it: the stage is done when "quiet", and quiet can end
 * again. After a failure, a pull stuck in the source is not waited for, nor
 * the close queued behind it; once that pull ends, the close is waited for
 * again (a consumer asking then gets the error once the source is closed);
 * a return() waits for both. There is no parent signal to link either: the
 * stream's context checks its signal at each pull and failure.
 */
export class ConcurrentStage<T> implements AsyncIterator<T> {
  readonly #up: AsyncIterator<unknown>;
  readonly #ctx: Context;
  readonly #fn: (item: unknown, index: number, signal: AbortSignal) => unknown;
  readonly #filter: boolean;
  readonly #limit: number;
  readonly #ordered: boolean;
  readonly #rate: RateLimiter | undefined;
  // The calls in flight are the scope's items; its signal is theirs and its
  // cancel (the first wins) stops them. See the class comment for why the
  // stage decides its own settling.
  readonly #scope = new Scope(undefined);
  readonly #signal = this.#scope.signal;

  readonly #window = new Ring<Slot>(16); // ordered: slots in input order
  readonly #results = new Ring<unknown>(16); // unordered: finished values
  readonly #free: Slot[] = [];
  #occupied = 0; // a pending pull + running calls + results not yet handed out
  #index = 0;
  #pulling = false;
  #upDone = false; // the source ended, failed or was closed: never call it again
  #closing = false;
  #stopped = false; // failed or returned: no more pulls, no more calls
  readonly #failure = new Failure();
  #closeError: unknown;
  #hasCloseError = false;
  #finished = false; // the consumer has seen the end
  readonly #pending = new PendingNext<T>();
  #returned: Promise<IteratorResult<T>> | undefined;
  #returnResolve: ((result: IteratorResult<T>) => void) | undefined;
  #returnReject: ((error: unknown) => void) | undefined;

  constructor(up: AsyncIterator<unknown>, spec: ConcurrentSpec, ctx: Context) {
    this.#up = up;
    this.#ctx = ctx;
    this.#fn = spec.fn;
    this.#filter = spec.filter;
    this.#limit = spec.concurrency;
    this.#ordered = spec.ordered;
    this.#rate = spec.rate;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#finished) return DONE_PROMISE;
    if (this.#pending.parked) return concurrentNext();
    if (!this.#stopped) {
      const value = this.#take();
      if (value !== NOTHING) {
        this.#pump();
        return Promise.resolve({ value: value as T, done: false });
      }
      if (this.#upDone && this.#occupied === 0) {
        this.#finished = true;
        return DONE_PROMISE;
      }
    } else if (this.#quiet()) {
      return this.#end();
    }
    const promise = this.#pending.park();
    this.#pump();
    return promise;
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#returned !== undefined) return this.#returned;
    if (this.#finished) return DONE_PROMISE;
    this.#returned = new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#returnResolve = resolve;
      this.#returnReject = reject;
    });
    const reason = closeReason(this.#ctx);
    this.#stop(reason);
    // A pending next() ends now: with the outer signal's reason when that is
    // why we stop, else as done (a dropped error stays dropped: the consumer
    // asked to stop before it got there).
    this.#pending.cancel(this.#ctx.signal);
    this.#failure.forget();
    this.#check();
    return this.#returned;
  }

  // The next result for the consumer, or NOTHING.
  #take(): unknown {
    if (this.#ordered) {
      const window = this.#window;
      for (;;) {
        const slot = window.peek();
        if (slot === undefined || slot.state === PENDING) return NOTHING;
        window.shift();
        this.#occupied--;
        const { state, value } = slot;
        slot.value = undefined;
        this.#free.push(slot);
        if (state === KEEP) return value;
      }
    }
    if (this.#results.size === 0) return NOTHING;
    this.#occupied--;
    return this.#results.shift();
  }

  // Filtered-out slots at the head free their room at once, even with no consumer waiting.
  #dropSkipped(): void {
    const window = this.#window;
    for (let slot = window.peek(); slot?.state === SKIP; slot = window.peek()) {
      window.shift();
      this.#occupied--;
      slot.value = undefined;
      this.#free.push(slot);
    }
    this.#pump();
  }

  // Starts a pull when there is room: one at a time, in order.
  #pump(): void {
    if (this.#pulling || this.#upDone || this.#stopped || this.#occupied >= this.#limit) return;
    this.#pulling = true;
    this.#occupied++;
    pull(this.#up, this.#onPulled, this.#onPullError);
  }

  readonly #onPulled = (result: IteratorResult<unknown>): void => {
    this.#pulling = false;
    if (this.#stopped) {
      this.#occupied--;
      if (result.done === true) this.#upDone = true;
      this.#check();
      return;
    }
    if (result.done === true) {
      this.#upDone = true;
      this.#occupied--;
      this.#deliver();
      return;
    }
    this.#start(result.value);
    this.#pump();
    if (this.#pending.parked) this.#deliver();
  };

  readonly #onPullError = (error: unknown): void => {
    this.#pulling = false;
    this.#occupied--;
    this.#upDone = true; // a source that threw is finished: don't close it
    if (!this.#stopped) this.#fail(error);
    else this.#check();
  };

  #start(item: unknown): void {
    const slot = this.#free.pop() ?? this.#newSlot();
    slot.state = PENDING;
    slot.index = this.#index++;
    if (this.#ordered) this.#window.push(slot);
    this.#scope.enter();
    const rate = this.#rate;
    if (rate !== undefined && !rate.tryAcquire()) {
      slot.item = item;
      rate.acquire({ signal: this.#signal }).then(slot.onTurn, slot.onError);
      return;
    }
    this.#call(slot, item);
  }

  #call(slot: Slot, item: unknown): void {
    let result: unknown;
    try {
      result = this.#fn(item, slot.index, this.#signal);
    } catch (error) {
      this.#settleError(error);
      return;
    }
    if (this.#filter) slot.item = item;
    if (isThenable(result)) result.then(slot.onValue, slot.onError);
    else this.#settleValue(slot, result);
  }

  #newSlot(): Slot {
    const slot: Slot = {
      state: PENDING,
      value: undefined,
      item: undefined,
      index: 0,
      onValue: (value) => this.#settleValue(slot, value),
      onError: (error) => this.#settleError(error),
      onTurn: () => {
        const item = slot.item;
        slot.item = undefined;
        if (this.#stopped) {
          this.#scope.exit();
          this.#check();
        } else {
          this.#call(slot, item);
        }
      },
    };
    return slot;
  }

  #settleValue(slot: Slot, value: unknown): void {
    this.#scope.exit();
    if (this.#stopped) {
      slot.item = undefined;
      this.#check();
      return;
    }
    let keep = true;
    if (this.#filter) {
      keep = Boolean(value);
      value = slot.item;
      slot.item = undefined;
    }
    if (this.#ordered) {
      slot.state = keep ? KEEP : SKIP;
      slot.value = value;
      if (this.#pending.parked) this.#deliver();
      else if (!keep && this.#window.peek() === slot) this.#dropSkipped();
      return;
    }
    this.#free.push(slot);
    if (keep) {
      this.#results.push(value);
      if (this.#pending.parked) this.#deliver();
    } else {
      this.#occupied--;
      if (this.#pending.parked)
        this.#deliver(); // it may have been the last one
      else this.#pump();
    }
  }

  #settleError(error: unknown): void {
    this.#scope.exit();
    if (!this.#stopped) this.#fail(error);
    else this.#check();
  }

  // Hands results to the waiting consumer, or the end.
  #deliver(): void {
    if (!this.#pending.parked) return;
    if (this.#stopped) {
      this.#check();
      return;
    }
    const value = this.#take();
    if (value !== NOTHING) {
      this.#pending.deliver(value as T);
      this.#pump();
      return;
    }
    if (this.#upDone && this.#occupied === 0) {
      this.#finished = true;
      this.#pending.done();
      return;
    }
    this.#pump();
  }

  #fail(error: unknown): void {
    const signal = this.#ctx.signal;
    this.#failure.fail(signal?.aborted ? signal.reason : error);
    this.#stop(
      signal?.aborted
        ? signal.reason
        : new CancelledError("Cancelled because another item of the stream failed", {
            cause: error,
          }),
    );
    this.#check();
  }

  // Stops pulling and starting, cancels running calls, drops results, closes the source.
  #stop(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#scope.cancel(reason);
    this.#window.clear();
    this.#results.clear();
    if (!this.#upDone && !this.#closing) {
      this.#closing = true;
      close(this.#up).then(this.#onClosed, this.#onCloseError);
    }
  }

  readonly #onClosed = (): void => {
    this.#closing = false;
    this.#upDone = true;
    this.#check();
  };

  readonly #onCloseError = (error: unknown): void => {
    if (!this.#hasCloseError) {
      this.#hasCloseError = true;
      this.#closeError = error;
    }
    this.#onClosed();
  };

  // Nothing stopped is left to settle. After a failure, a pull still pending
  // is not waited for, nor the close behind it: a source stuck in next() (a
  // quiet socket, a paused producer) would keep the error from the consumer
  // forever, as an async generator's return() queues behind its pending
  // next(). Both settle in the background; the queued return() then closes
  // the source. A return() (the consumer stopped) still waits for both, so the
  // source is closed when it resolves.
  #quiet(): boolean {
    if (this.#scope.running !== 0) return false;
    if (this.#pulling) return this.#failure.failed;
    return !this.#closing;
  }

  // Once stopped and quiet: settle return() and the consumer's pending next().
  #check(): void {
    if (!this.#stopped || !this.#quiet()) return;
    const returnResolve = this.#returnResolve;
    if (returnResolve !== undefined) {
      const returnReject = this.#returnReject as (error: unknown) => void;
      this.#returnResolve = undefined;
      this.#returnReject = undefined;
      this.#finished = true;
      if (this.#hasCloseError) returnReject(this.#closeError);
      else returnResolve(DONE);
      return;
    }
    if (this.#pending.parked) this.#pending.settle(this.#end());
  }

  // The consumer reaches the end after a failure: the error, once.
  #end(): Promise<IteratorResult<T>> {
    this.#finished = true;
    if (this.#failure.failed) return this.#failure.end();
    if (this.#hasCloseError) return Promise.reject(this.#closeError);
    return DONE_PROMISE;
  }
}

/**
 * Calls `up.next()` and hands its outcome to `onResult` or `onError`; a
 * `next()` that throws instead of rejecting goes to `onError` too, at once.
 * Returns the handlers' promise (undefined after a throw).
 */
export function pull(
  up: AsyncIterator<unknown>,
  onResult: (result: IteratorResult<unknown>) => void,
  onError: (error: unknown) => void,
): Promise<void> | undefined {
  let next: Promise<IteratorResult<unknown>>;
  try {
    next = up.next();
  } catch (error) {
    onError(error);
    return undefined;
  }
  return next.then(onResult, onError);
}

/** The rejection for a second `next()` while one is pending. */
export function concurrentNext(): Promise<never> {
  return Promise.reject(
    new TypeError(
      "A stream is read one next() at a time, as for await does: await the pending one first",
    ),
  );
}
