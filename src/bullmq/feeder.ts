import type { Checked } from "./options.js";
import { expectId } from "./options.js";

/** One input as it travels in a BullMQ job. */
export interface WireItem {
  readonly i: number;
  readonly id: string;
  readonly input: unknown;
  readonly key?: string;
}

/** A BullMQ job as `queue.addBulk` takes it. */
export interface WireJob {
  readonly name: string;
  readonly data: { readonly items: WireItem[] };
  readonly opts: { readonly jobId: string; removeOnComplete: true; removeOnFail: true };
}

/** An input whose result was already in the results stream: reported, not sent. */
export interface ReadyItem {
  readonly id: string;
  readonly i: number;
  /** The result as the worker wrote it (JSON). */
  readonly result: string;
}

/**
 * Pulls a run's inputs into BullMQ jobs in the background, at most `window`
 * not yet reported, while the producer reads results: a slow input must not
 * hold back outcomes that are already there. The producer calls
 * {@link Feeder.settle} for each result, which makes room for more input.
 *
 * `perKey` is enforced here, not on the workers: an input is sent only while
 * fewer than `perKey` of its key are sent and not reported, so no worker ever
 * picks up a job only to find its key busy (the lease semaphore this replaced
 * spent ~4.5 wasted pick-ups per input, see docs/distributed.md).
 *
 * A producer attached to a dead producer's run passes `early`: the results
 * that run left unread, by input id. An input found there is not sent again
 * but handed back through {@link Feeder.takeReady}; {@link Feeder.resend}
 * sends again inputs whose job vanished without a result.
 */
export class Feeder<I> {
  /** Input id -> index, from pulled until reported. */
  readonly pending = new Map<string, number>();
  readonly #iterator: Iterator<I> | AsyncIterator<I>;
  readonly #checked: Checked<I>;
  readonly #task: string;
  readonly #send: (jobs: WireJob[]) => Promise<void>;
  readonly #sends = new Set<Promise<void>>();
  readonly #early: ((id: string) => string | undefined) | undefined;
  #ready: ReadyItem[] = [];
  // perKey: inputs of a key sent and not reported, and those waiting for room.
  readonly #keyOf = new Map<string, string>();
  readonly #running = new Map<string, number>();
  readonly #held = new Map<string, WireItem[]>();
  readonly #heldIds = new Set<string>();
  #items: WireItem[] = [];
  #jobs: WireJob[] = [];
  #index = 0;
  #exhausted = false; // the input said done, or threw
  #closed = false;
  #inNext = false;
  #stopped = false;
  #failure: { error: unknown } | undefined;
  #pump: Promise<void> | undefined;
  #wake = wakeUp();
  #room = wakeUp();

  constructor(
    iterator: Iterator<I> | AsyncIterator<I>,
    checked: Checked<I>,
    task: string,
    send: (jobs: WireJob[]) => Promise<void>,
    early?: (id: string) => string | undefined,
  ) {
    this.#iterator = iterator;
    this.#checked = checked;
    this.#task = task;
    this.#send = send;
    this.#early = early;
  }

  /** True once every input was pulled and sent. */
  get done(): boolean {
    return this.#exhausted && this.#pump === undefined;
  }

  /** Starts pulling. */
  start(): void {
    this.#pump = this.#run().finally(() => {
      this.#pump = undefined;
      this.#wake.fire();
    });
  }

  /** Throws the input's (or a send's) error, if pulling failed. */
  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Resolves when more was sent, or pulling ended or failed. */
  changed(): Promise<void> {
    return this.#wake.promise;
  }

  /** The inputs found in `early` since the last call, to report. */
  takeReady(): ReadyItem[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  /** Sends `items` again (pending inputs whose job vanished); their keys already count them. */
  async resend(items: readonly WireItem[]): Promise<void> {
    for (const item of items) {
      this.#jobs.push(this.#job([item]));
    }
    await this.#flush();
  }

  /** The index of a reported input, and room for one more; undefined for a duplicate. */
  settle(id: string): number | undefined {
    const index = this.pending.get(id);
    if (index === undefined) return undefined;
    this.pending.delete(id);
    const key = this.#keyOf.get(id);
    if (key !== undefined && this.#heldIds.has(id)) this.#unhold(key, id);
    else if (key !== undefined) this.#release(key, id);
    this.#room.fire();
    return index;
  }

  /** Sends the inputs that {@link Feeder.settle} let through (their key had room again). */
  sendReleased(): Promise<void> {
    return this.#flush();
  }

  /**
   * Stops pulling: waits for the jobs being sent and for the input to close,
   * but not for a `next()` still pending (a stuck source): that one is asked
   * to close, as aiokit's streams do.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#room.fire();
    if (this.#inNext) void this.#close();
    else {
      await this.#pump;
      if (!this.#exhausted) await this.#close(); // never started
    }
    await Promise.allSettled(this.#sends);
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.pending.size >= this.#checked.window) {
          await this.#flush();
          if (this.pending.size >= this.#checked.window) await this.#room.promise;
          continue;
        }
        this.#inNext = true;
        let step: IteratorResult<I>;
        try {
          step = await this.#next();
        } catch (error) {
          this.#exhausted = true;
          throw error;
        } finally {
          this.#inNext = false;
        }
        if (this.#stopped) break;
        if (step.done === true) {
          this.#exhausted = true;
          break;
        }
        this.#add(step.value);
      }
      await this.#flush();
    } catch (error) {
      this.#failure ??= { error };
    } finally {
      if (!this.#exhausted) await this.#close();
    }
  }

  #add(input: I): void {
    const { id, key } = this.#checked;
    const i = this.#index++;
    const itemId = id === undefined ? String(i) : expectId(id(input, i), i);
    if (this.pending.has(itemId)) {
      throw new TypeError(`Expected \`id\` to be unique in the run, got ${itemId} twice`);
    }
    const result = this.#early?.(itemId);
    if (result !== undefined) {
      this.#ready.push({ id: itemId, i, result });
      this.#wake.fire();
      return;
    }
    this.pending.set(itemId, i);
    const k = key?.(input, i);
    if (k === undefined) {
      this.#push({ i, id: itemId, input });
      return;
    }
    const item = { i, id: itemId, input, key: k };
    this.#keyOf.set(itemId, k);
    const running = this.#running.get(k) ?? 0;
    if (running < this.#checked.perKey) {
      this.#running.set(k, running + 1);
      this.#push(item);
    } else {
      const held = this.#held.get(k);
      if (held === undefined) this.#held.set(k, [item]);
      else held.push(item);
      this.#heldIds.add(itemId);
    }
  }

  #push(item: WireItem): void {
    this.#items.push(item);
    if (this.#items.length === this.#checked.chunk) this.#seal();
  }

  /** One input of `key` was reported: the next one held for that key goes out. */
  #release(key: string, id: string): void {
    this.#keyOf.delete(id);
    const held = this.#held.get(key);
    const next = held?.shift();
    if (next !== undefined) {
      this.#heldIds.delete(next.id);
      if (held?.length === 0) this.#held.delete(key);
      this.#push(next);
      return;
    }
    const running = (this.#running.get(key) ?? 1) - 1;
    if (running === 0) this.#running.delete(key);
    else this.#running.set(key, running);
  }

  /**
   * A held input was reported without being sent by this producer (attached:
   * the dead producer had sent it): it leaves the hold, its key's count is unchanged.
   */
  #unhold(key: string, id: string): void {
    this.#keyOf.delete(id);
    this.#heldIds.delete(id);
    const held = (this.#held.get(key) ?? []).filter((item) => item.id !== id);
    if (held.length === 0) this.#held.delete(key);
    else this.#held.set(key, held);
  }

  /**
   * The next input. Jobs are sent in batches, but a slow async input must not
   * hold back those already collected: if `next()` has not settled by the
   * next macrotask, they are sent first.
   */
  async #next(): Promise<IteratorResult<I>> {
    const step = this.#iterator.next();
    if (this.#items.length + this.#jobs.length === 0 || !(step instanceof Promise)) return step;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<typeof TICK>((resolve) => {
      timer = setTimeout(() => resolve(TICK), 0);
    });
    const first = await Promise.race([step, tick]);
    clearTimeout(timer);
    if (first !== TICK) return first;
    await this.#flush();
    return step;
  }

  #seal(): void {
    const items = this.#items;
    if (items.length === 0) return;
    this.#jobs.push(this.#job(items));
    this.#items = [];
  }

  #job(items: WireItem[]): WireJob {
    const first = items[0] as WireItem;
    return {
      name: this.#task,
      data: { items },
      opts: {
        jobId: this.#checked.chunk === 1 ? `x${first.id}` : `c${first.i}`,
        removeOnComplete: true,
        removeOnFail: true,
      },
    };
  }

  async #flush(): Promise<void> {
    this.#seal();
    if (this.#jobs.length === 0 || this.#stopped) return;
    const sent = this.#send(this.#jobs.splice(0));
    this.#sends.add(sent);
    try {
      await sent;
    } finally {
      this.#sends.delete(sent);
    }
    this.#wake.fire();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#iterator.return?.();
    } catch {
      // The run's own error, if any, wins.
    }
  }
}

const TICK = Symbol("tick");

/** A promise that `fire()` resolves, and a fresh one for the next wait. */
function wakeUp(): { promise: Promise<void>; fire(): void } {
  let resolve = (): void => {};
  const s = {
    promise: new Promise<void>((r) => {
      resolve = r;
    }),
    fire(): void {
      resolve();
      s.promise = new Promise<void>((r) => {
        resolve = r;
      });
    },
  };
  return s;
}
