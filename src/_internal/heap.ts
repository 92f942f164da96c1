/**
 * A binary min-heap: O(log n) push/pop. Ties are broken by insertion order, so
 * equal items come out first-in first-out (a stable priority queue).
 */
export class Heap<T> {
  readonly #compare: (a: T, b: T) => number;
  #items: T[] = [];
  #seqs: number[] = [];
  #seq = 0;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    this.#items.push(item);
    this.#seqs.push(this.#seq++);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const lastItem = items.pop() as T;
    const lastSeq = this.#seqs.pop() as number;
    if (items.length > 0) {
      items[0] = lastItem;
      this.#seqs[0] = lastSeq;
      this.#down(0);
    }
    return top;
  }

  /** Removes every item (O(1)). */
  clear(): void {
    this.#items = [];
    this.#seqs = [];
  }

  /** Items in heap order (not sorted); for inspection. */
  toArray(): T[] {
    return this.#items.slice();
  }

  #less(i: number, j: number): boolean {
    const c = this.#compare(this.#items[i] as T, this.#items[j] as T);
    return c < 0 || (c === 0 && (this.#seqs[i] as number) < (this.#seqs[j] as number));
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const seqs = this.#seqs;
    const item = items[i] as T;
    items[i] = items[j] as T;
    items[j] = item;
    const seq = seqs[i] as number;
    seqs[i] = seqs[j] as number;
    seqs[j] = seq;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) return;
      this.#swap(child, i);
      i = child;
    }
  }
}
