/**
 * A pool's idle resources and their eviction: lent most recently returned
 * first (LIFO, so the warm ones stay in use), evicted oldest first once idle
 * for `idleTimeout` on aiokit's clock.
 * @module
 */
import { type Clock, getClock, type TimerHandle } from "../clock.js";
import type { PoolSlot } from "./lease.js";

/** @internal */
export class IdleSlots<T> {
  /** Most recently returned last. */
  readonly #slots: PoolSlot<T>[] = [];
  readonly #idleTimeout: number;
  /** May the oldest be evicted now (the pool is above `min`)? */
  readonly #mayEvict: () => boolean;
  readonly #evict: (slot: PoolSlot<T>) => void;
  #timer: TimerHandle | undefined;
  #clock: Clock | undefined;

  constructor(idleTimeout: number, mayEvict: () => boolean, evict: (slot: PoolSlot<T>) => void) {
    this.#idleTimeout = idleTimeout;
    this.#mayEvict = mayEvict;
    this.#evict = evict;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** The most recently returned resource, taken out (undefined when none is idle). */
  pop(): PoolSlot<T> | undefined {
    return this.#slots.pop();
  }

  /** A resource becomes idle: its eviction clock starts (when `idleTimeout` is finite). */
  push(slot: PoolSlot<T>): void {
    slot.fresh = false;
    this.#slots.push(slot);
    if (this.#idleTimeout !== Number.POSITIVE_INFINITY) {
      slot.idleSince = getClock().now();
      if (this.#timer === undefined) this.#schedule();
    }
  }

  /** Takes every idle resource out and stops evicting (the pool is closing). */
  drain(): PoolSlot<T>[] {
    if (this.#timer !== undefined) {
      this.#clock?.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    return this.#slots.splice(0);
  }

  #schedule(): void {
    const oldest = this.#slots[0];
    if (oldest === undefined) return;
    const clock = getClock();
    this.#clock = clock;
    this.#timer = clock.setTimer(
      () => this.#run(),
      oldest.idleSince + this.#idleTimeout - clock.now(),
    );
  }

  #run(): void {
    this.#timer = undefined;
    const now = getClock().now();
    const slots = this.#slots;
    while (this.#mayEvict()) {
      const oldest = slots[0];
      if (oldest === undefined || oldest.idleSince + this.#idleTimeout > now) break;
      slots.shift();
      this.#evict(oldest);
    }
    if (slots.length > 0 && this.#mayEvict()) this.#schedule();
  }
}
