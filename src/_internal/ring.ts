/**
 * A growable FIFO ring buffer: O(1) `push` and `shift` (amortized; growing
 * doubles the backing array), no `Array.shift()`. Emptied slots are cleared so
 * the ring never keeps a value alive after handing it out, and a ring grown
 * past 1,024 slots by a burst gives that memory back once it is empty.
 */
export class Ring<T> {
  #items: (T | undefined)[];
  #mask: number;
  readonly #initial: number;
  #head = 0;
  #size = 0;

  /** @param capacity - Initial capacity, rounded up to a power of two. */
  constructor(capacity = 16) {
    let cap = 4;
    while (cap < capacity) cap *= 2;
    this.#initial = cap;
    this.#items = new Array<T | undefined>(cap);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size > this.#mask) this.#grow();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const head = this.#head;
    const item = this.#items[head];
    this.#items[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    if (--this.#size === 0 && this.#mask > 1023) this.clear();
    return item;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Calls `fn` on every item, oldest first, without removing them. */
  forEach(fn: (item: T) => void): void {
    for (let i = 0; i < this.#size; i++) fn(this.#items[(this.#head + i) & this.#mask] as T);
  }

  /** Removes every item. */
  /** Removes every item (and shrinks back to the initial capacity). */
  clear(): void {
    if (this.#size === 0 && this.#mask === this.#initial - 1) return;
    this.#items = new Array<T | undefined>(this.#initial);
    this.#mask = this.#initial - 1;
    this.#head = 0;
    this.#size = 0;
  }

  /** Removes every item and returns them, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#size > 0) out.push(this.shift() as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const cap = old.length;
    const items = new Array<T | undefined>(cap * 2);
    for (let i = 0; i < cap; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#mask = cap * 2 - 1;
    this.#head = 0;
  }
}
