/**
 * One fair, cancellable FIFO wait queue (trio's ParkingLot) under every
 * primitive that makes callers wait: locks, semaphores, events, queues, pools,
 * RateLimiter, limiter and keyedLimiter. This file is the one place that
 * decides how a waiter is granted, refused or let go when its signal aborts.
 *
 * A waiter is a node in a doubly linked list: O(1) to add, to wake, and to
 * remove when its signal aborts. Waking is atomic: `wakeOne` unlinks the
 * waiter and removes its abort listener before granting it, so a waiter that
 * was granted a value always receives it, even if its signal aborts in the same
 * tick; a waiter whose signal aborted first is already gone and never takes
 * the value. That is the whole of "cancellation is atomic".
 *
 * Two kinds of waiter:
 * - `wait()` queues the common one, a promise (a blocked `Queue.put` carries
 *   its item as `data`: the waker reads it with `peekData()` and then wakes or
 *   rejects that waiter, all in the same synchronous step, so the hand-over
 *   cannot be torn by an abort);
 * - an owner that must cost less per caller, or keep a caller while it moves
 *   from one queue to another, subclasses {@link WaitNode} and queues its own
 *   nodes with `enqueue()` (the limiters: a node without a promise of its own,
 *   with or without a signal, that `moveFirstTo()` hands to another queue).
 *
 * The owner may pass `onAbandon` to hear of a waiter that left because its
 * signal aborted (after it was refused): a RateLimiter then re-arms its timer,
 * a keyedLimiter gives the key's slot to the next caller.
 */

import { addAbortListener, removeAbortListener } from "./abort.js";
import { describe } from "./describe.js";

/**
 * The start of every waiting operation: a rejected promise when `signal` is
 * not an AbortSignal (TypeError) or is already aborted (its reason), else
 * undefined. Waits refuse an aborted signal even when they could complete at
 * once, so "aborted" always means "nothing happened".
 */
export function refuseWait(signal: unknown): Promise<never> | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    return Promise.reject(
      new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`),
    );
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  return undefined;
}

/**
 * One queued waiter. The queue links it, watches its signal, and calls
 * `granted` or `refused` exactly once, after unlinking it and dropping its
 * abort listener. It is its own abort listener (`handleEvent`), so a wait
 * allocates nothing beyond the node.
 */
export abstract class WaitNode<T> {
  /** @internal Owned by the queue. */
  prev: WaitNode<T> | undefined = undefined;
  /** @internal Owned by the queue. */
  next: WaitNode<T> | undefined = undefined;
  /** The queue while queued; undefined once granted, refused or removed. */
  queue: WaitQueue<T, unknown> | undefined = undefined;
  /** The signal it was queued with (kept after it leaves, for the owner to pass on). */
  signal: AbortSignal | undefined = undefined;

  /** It reached its turn: `value` is what the waker handed out. */
  abstract granted(value: T): void;

  /** It was rejected by the owner, or its signal aborted (`reason`). */
  abstract refused(reason: unknown): void;

  /** @internal Its signal aborted while queued. */
  handleEvent(): void {
    const queue = this.queue;
    if (queue === undefined) return;
    queue._remove(this);
    this.refused((this.signal as AbortSignal).reason);
    queue._abandoned(this);
  }
}

// The waiter `wait()` queues: a promise, and the data it carries.
class Waiter<T, D> extends WaitNode<T> {
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  data: D;

  constructor(data: D) {
    super();
    this.data = data;
  }

  granted(value: T): void {
    this.data = undefined as D; // don't keep a put's item alive
    this.resolve(value);
  }

  refused(reason: unknown): void {
    this.data = undefined as D;
    this.reject(reason);
  }
}

export class WaitQueue<T, D = undefined> {
  #head: WaitNode<T> | undefined;
  #tail: WaitNode<T> | undefined;
  #size = 0;
  readonly #onAbandon: ((node: WaitNode<T>) => void) | undefined;

  /** @param onAbandon - Called after a waiter left the queue because its signal aborted. */
  constructor(onAbandon?: (node: WaitNode<T>) => void) {
    this.#onAbandon = onAbandon;
  }

  /** Number of waiters queued now. */
  get size(): number {
    return this.#size;
  }

  /** The first waiter, left in place (undefined when nobody waits). */
  peek(): WaitNode<T> | undefined {
    return this.#head;
  }

  /** The `data` of the first waiter if `wait()` queued it, else undefined. */
  peekData(): D | undefined {
    const head = this.#head;
    return head instanceof Waiter ? (head.data as D) : undefined;
  }

  /**
   * Queues a waiter and returns the promise it waits on. When `signal` aborts
   * first, the waiter leaves the queue at once and the promise rejects with the
   * signal's reason; an already-aborted signal rejects without queueing.
   * `data` rides along with the waiter (see {@link WaitQueue.peekData}).
   */
  wait(signal?: AbortSignal, data?: D): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiter = new Waiter<T, D>(data as D);
    const promise = new Promise<T>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.enqueue(waiter, signal);
    return promise;
  }

  /**
   * Queues an owner's own `node` at the tail, or just ahead of `before` (a
   * node of this queue). `signal` must not be aborted yet (check first): when
   * it aborts, the node leaves and is refused with its reason.
   */
  enqueue(node: WaitNode<T>, signal?: AbortSignal, before?: WaitNode<T>): void {
    node.signal = signal;
    this.#link(node, before);
    if (signal !== undefined) addAbortListener(signal, node);
  }

  /**
   * Moves the first waiter to the tail of `to`, still waiting and with its
   * signal still watched (now by `to`); false when nobody waits.
   */
  moveFirstTo(to: WaitQueue<T, D>): boolean {
    const node = this.#head;
    if (node === undefined) return false;
    this.#unlink(node);
    to.#link(node, undefined);
    return true;
  }

  /** Wakes the first waiter with `value`; false when nobody waits. */
  wakeOne(value: T): boolean {
    const node = this.#shift();
    node?.granted(value);
    return node !== undefined;
  }

  /** Rejects the first waiter with `reason`; false when nobody waits. */
  rejectOne(reason: unknown): boolean {
    const node = this.#shift();
    node?.refused(reason);
    return node !== undefined;
  }

  /** Wakes every waiter, oldest first, with `value`; returns how many. */
  wakeAll(value: T): number {
    let count = 0;
    while (this.wakeOne(value)) count++;
    return count;
  }

  /** Rejects every waiter, oldest first, with `reason`; returns how many. */
  rejectAll(reason: unknown): number {
    let count = 0;
    while (this.rejectOne(reason)) count++;
    return count;
  }

  /** Takes `node` out without settling it (its abort listener gone); false when it is not queued here. */
  remove(node: WaitNode<T>): boolean {
    if (node.queue !== this) return false;
    this._remove(node);
    return true;
  }

  /** Takes the first waiter out of the queue (its abort listener gone), or undefined. */
  #shift(): WaitNode<T> | undefined {
    const node = this.#head;
    if (node !== undefined) this._remove(node);
    return node;
  }

  #link(node: WaitNode<T>, before: WaitNode<T> | undefined): void {
    node.queue = this as WaitQueue<T, unknown>;
    node.next = before;
    node.prev = before === undefined ? this.#tail : before.prev;
    if (node.prev === undefined) this.#head = node;
    else node.prev.next = node;
    if (before === undefined) this.#tail = node;
    else before.prev = node;
    this.#size++;
  }

  #unlink(node: WaitNode<T>): void {
    node.queue = undefined;
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
  }

  /** @internal A waiter left on abort (for WaitNode only). */
  _abandoned(node: WaitNode<T>): void {
    this.#onAbandon?.(node);
  }

  /** @internal Unlinks `node` and drops its abort listener (for WaitNode only). */
  _remove(node: WaitNode<T>): void {
    this.#unlink(node);
    if (node.signal !== undefined) removeAbortListener(node.signal, node);
  }
}
