/**
 * The requests of a run, one by one, for `stream()`: read a chunk of input at
 * a time, skipping what `--resume` found done, and ending at the first
 * Ctrl-C (`drain`) even while the input is silent (a pipe nobody writes to).
 *
 * A hand-written iterator rather than an async generator: between two chunks
 * `next()` is one resolved promise, where a generator would resume a
 * coroutine for every line.
 */
import { type BadLine, type FetchRequest, readRequestBatches } from "./input.js";
import type { LineSet } from "./output.js";

type Item = FetchRequest | BadLine;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** What the source counts as it reads. */
export interface SourceCounts {
  /** Lines skipped because a resumed run had them done. */
  skipped: number;
  /** The last input line read so far (the input is read ahead of the requests, a chunk at a time). */
  linesRead: number;
}

export class RequestSource implements AsyncIterableIterator<Item> {
  readonly #batches: AsyncIterator<Item[]>;
  readonly #done: LineSet | undefined;
  readonly #drain: AbortSignal;
  readonly #counts: SourceCounts;
  #batch: Item[] = [];
  #index = 0;
  #ended = false;
  /** Settles a `next()` waiting for the next chunk, when Ctrl-C comes first. */
  #wake: ((result: IteratorResult<Item>) => void) | undefined;

  /** `counts` is kept up to date as the input is read. */
  constructor(
    input: AsyncIterable<string | Uint8Array>,
    done: LineSet | undefined,
    drain: AbortSignal,
    counts: SourceCounts,
  ) {
    this.#batches = readRequestBatches(input);
    this.#done = done;
    this.#drain = drain;
    this.#counts = counts;
    drain.addEventListener("abort", this, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Item>> {
    if (this.#ended) return Promise.resolve(DONE);
    if (this.#drain.aborted) return this.#end();
    const item = this.#take();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    return this.#refill();
  }

  return(): Promise<IteratorResult<Item>> {
    return this.#end();
  }

  /** Ctrl-C: a `next()` waiting on the input ends now. */
  handleEvent(): void {
    const wake = this.#wake;
    void this.#end();
    wake?.(DONE);
  }

  #take(): Item | undefined {
    const batch = this.#batch;
    while (this.#index < batch.length) {
      const item = batch[this.#index++] as Item;
      if (this.#done?.has(item.line)) this.#counts.skipped++;
      else return item;
    }
    return undefined;
  }

  async #refill(): Promise<IteratorResult<Item>> {
    for (;;) {
      const step = await new Promise<IteratorResult<Item[]>>((resolve, reject) => {
        this.#wake = resolve as (result: IteratorResult<Item>) => void;
        this.#batches.next().then(resolve, reject);
      });
      this.#wake = undefined;
      if (this.#ended) return DONE;
      if (step.done === true) return this.#end();
      this.#batch = step.value;
      this.#index = 0;
      this.#counts.linesRead = (step.value.at(-1) as Item).line;
      const item = this.#take();
      if (item !== undefined) return { done: false, value: item };
    }
  }

  #end(): Promise<IteratorResult<Item>> {
    if (!this.#ended) {
      this.#ended = true;
      this.#batch = [];
      this.#drain.removeEventListener("abort", this);
      // Not awaited: a generator blocked on silent input can't close until it reads.
      this.#batches.return?.().catch(() => undefined);
    }
    return Promise.resolve(DONE);
  }
}
