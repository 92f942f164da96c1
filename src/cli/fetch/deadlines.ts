/**
 * Time limits for many operations on one timer. Every request of a run has
 * the same limit, so deadlines arrive nearly in order: a list sorted from the
 * tail is O(1) to add to and to remove from, and one clock timer, armed for
 * the earliest deadline, replaces a `setTimeout` per request (an object, a
 * heap insert and a clear each).
 */
import { type Clock, getClock, type TimerHandle } from "../../testing/index.js";

/** An operation with a time limit: `expire()` is called once its deadline passes. */
export abstract class DeadlineEntry {
  /** @internal */ _deadline = 0;
  /** @internal */ _prev: DeadlineEntry | undefined;
  /** @internal */ _next: DeadlineEntry | undefined;
  /** @internal */ _listed = false;
  abstract expire(): void;
}

export class Deadlines {
  #head: DeadlineEntry | undefined;
  #tail: DeadlineEntry | undefined;
  #timer: TimerHandle | undefined;
  #timerClock: Clock | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  /** Calls `entry.expire()` at `deadline` (on aiokit's clock) unless removed before. */
  add(entry: DeadlineEntry, deadline: number): void {
    entry._deadline = deadline;
    entry._listed = true;
    let after = this.#tail;
    while (after !== undefined && after._deadline > deadline) after = after._prev;
    entry._prev = after;
    entry._next = after === undefined ? this.#head : after._next;
    if (entry._next === undefined) this.#tail = entry;
    else entry._next._prev = entry;
    if (after === undefined) this.#head = entry;
    else after._next = entry;
    if (deadline < this.#armedFor) this.#arm(deadline);
  }

  remove(entry: DeadlineEntry): void {
    if (!entry._listed) return;
    entry._listed = false;
    if (entry._prev === undefined) this.#head = entry._next;
    else entry._prev._next = entry._next;
    if (entry._next === undefined) this.#tail = entry._prev;
    else entry._next._prev = entry._prev;
    entry._prev = undefined;
    entry._next = undefined;
    // A timer armed for a deadline that left fires early and re-arms; an empty
    // list must not keep the process alive, though.
    if (this.#head === undefined) this.#disarm();
  }

  #arm(deadline: number): void {
    this.#disarm();
    const clock = getClock();
    this.#armedFor = deadline;
    this.#timerClock = clock;
    this.#timer = clock.setTimer(this.#fire, Math.max(0, deadline - clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timerClock?.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = getClock().now();
    for (
      let entry = this.#head;
      entry !== undefined && entry._deadline <= now;
      entry = this.#head
    ) {
      this.remove(entry);
      entry.expire();
    }
    if (this.#head !== undefined && this.#timer === undefined) this.#arm(this.#head._deadline);
  };
}
