import { link, noop, onAbort, sharedController } from "./abort.js";
import { resolved } from "./thenable.js";

/**
 * @internal One structured-concurrency scope: the piece every combinator
 * (race, asCompleted, gather, map, TaskGroup, …) is written on. It owns the
 * four rules they share, so each is decided here only:
 *
 * - the parent signal is linked (with {@link link}) for the scope's lifetime,
 *   and unlinked when it settles;
 * - the first {@link cancel} wins: it aborts the shared signal with its
 *   reason, later calls do nothing (so the first failure cancels the rest);
 * - it settles only after every {@link enter}ed item has {@link exit}ed and
 *   {@link close} was called (wait for all); an item {@link park}ed on
 *   something that cannot be cancelled is not waited for once the scope is
 *   cancelled;
 * - it settles once.
 *
 * Between those, the scope may go idle (nothing left to wait for) and get
 * new items again, as many times as its owner likes: {@link whenIdle} can be
 * awaited again and again, and {@link closeWhenIdle} settles at the first idle
 * that lasts until its continuation runs (a TaskGroup whose last task's
 * callback spawns another).
 *
 * What a failure *means* (which error the caller sees) stays with the user:
 * the scope only says whether it was cancelled, and whether by the parent.
 *
 * @example
 * ```ts ignore: internal, not importable from the package
 * const scope = new Scope(options.signal);
 * scope.enter();
 * work(scope.signal).then(() => scope.exit(), (e) => { scope.cancel(e); scope.exit(); });
 * await scope.whenAll();
 * ```
 */
export class Scope {
  readonly #controller = sharedController();
  readonly #signal = this.#controller.signal;
  readonly #parent: AbortSignal | undefined;
  readonly #unlink: () => void;
  #running = 0;
  #parked = 0;
  #open = true; // neither close() nor closeWhenIdle() was called
  #closed = false; // close() was called: the next idle settles, at once
  #settled = false;
  #onSettled: (() => void) | undefined;
  #idle: Promise<void> | undefined;
  #wakeIdle: (() => void) | undefined;
  readonly #onCancel: ((reason: unknown) => void) | undefined;

  /**
   * `onCancel` runs once, right after the signal aborted (by {@link cancel}
   * or by the parent) and its listeners ran, and before the scope looks at
   * whether that leaves it idle: TaskGroup reaches its tasks this way, since
   * a task adds no listener of its own, and map records why it stops. With
   * it, the parent is linked through `cancel()` instead of {@link link}, so
   * the hook runs on the parent's abort too.
   */
  constructor(parent: AbortSignal | undefined, onCancel?: (reason: unknown) => void) {
    this.#parent = parent;
    this.#onCancel = onCancel;
    if (onCancel === undefined) this.#unlink = link(parent, this.#controller);
    else if (parent?.aborted) {
      this.#unlink = noop;
      this.cancel(parent.reason);
    } else this.#unlink = onAbort(parent, (reason) => this.cancel(reason));
  }

  /** The signal every item of the scope gets. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** Whether the scope was cancelled (by {@link cancel} or by its parent). */
  get cancelled(): boolean {
    return this.#signal.aborted;
  }

  /** Whether the parent signal aborted (the caller then throws the parent's reason). */
  get parentAborted(): boolean {
    return this.#parent?.aborted === true;
  }

  /** How many entered items have not exited yet (parked ones included). */
  get running(): number {
    return this.#running;
  }

  /** Whether the scope has settled: it takes no more items. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Cancels every item with `reason`; the first call wins. Returns whether
   * this call did it. Parked items stop being waited for, so this may settle
   * a closed scope (after `onCancel` ran).
   */
  cancel(reason: unknown): boolean {
    if (this.#signal.aborted) return false;
    this.#controller.abort(reason);
    this.#onCancel?.(reason);
    if (this.#running === this.#parked) this.#quiet();
    return true;
  }

  /** Counts one more item the scope waits for. Between two idles, as often as needed. */
  enter(): void {
    if (this.#settled) throw new Error("Scope.enter() after the scope settled");
    this.#running++;
  }

  /** Counts one item as settled; the last one after {@link close} settles the scope. */
  exit(): void {
    if (--this.#running === this.#parked) this.#quiet();
  }

  /**
   * The entered item now waits on something it cannot cancel (a promise
   * given as input, a pull from a source that may never answer): it is
   * waited for while the scope runs, not once it is cancelled. The item
   * calls {@link unpark} when the wait ends, and {@link exit} as usual (both
   * do nothing harmful after the scope settled without it).
   *
   * Only on a scope made with `onCancel` (or without a parent): the parent's
   * abort must come through {@link cancel}, which stops the wait for parked
   * items; {@link link} would abort the signal behind the scope's back.
   */
  park(): void {
    if (this.#onCancel === undefined && this.#parent !== undefined) {
      throw new Error("Scope.park() needs a scope made with onCancel when it has a parent");
    }
    if (++this.#parked === this.#running && this.cancelled) this.#quiet();
  }

  /** The parked item's wait ended: it is waited for again. */
  unpark(): void {
    this.#parked--;
  }

  /** No more items: calls `onSettled` once every item has exited (at once if none is running). */
  close(onSettled: () => void): void {
    this.#closeOnce();
    this.#closed = true;
    this.#onSettled = onSettled;
    if (this.#running === this.#parked) this.#quiet();
  }

  /** {@link close} as a promise. */
  whenAll(): Promise<void> {
    return new Promise<void>((resolve) => this.close(resolve));
  }

  /**
   * Resolves the next time the scope has nothing left to wait for (at once
   * if it has nothing now). New items may enter after it; await it again to
   * wait for them too.
   */
  whenIdle(): Promise<void> {
    if (this.#waitsForNothing()) return resolved;
    this.#idle ??= new Promise<void>((resolve) => {
      this.#wakeIdle = resolve;
    });
    return this.#idle;
  }

  /**
   * Settles the scope at the first idle that still holds when checked a
   * turn later: items may keep entering meanwhile (a callback of the last
   * item may start another after the count hit zero), and are waited for.
   * `onSettled` runs synchronously at the settle, so the owner can refuse
   * new items from then on; the promise resolves after it.
   */
  async closeWhenIdle(onSettled: () => void): Promise<void> {
    this.#closeOnce();
    while (!this.#waitsForNothing()) await this.whenIdle();
    this.#closed = true;
    this.#onSettled = onSettled;
    this.#settle();
  }

  #closeOnce(): void {
    if (!this.#open) throw new Error("Scope.close() called twice");
    this.#open = false;
  }

  #waitsForNothing(): boolean {
    return this.#running === this.#parked && (this.#parked === 0 || this.cancelled);
  }

  // The count reached the parked ones: idle if nothing parked or cancelled.
  #quiet(): void {
    if (this.#parked !== 0 && !this.cancelled) return;
    const wake = this.#wakeIdle;
    if (wake !== undefined) {
      this.#idle = undefined;
      this.#wakeIdle = undefined;
      wake();
    }
    if (this.#closed) this.#settle();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#unlink();
    this.#onSettled?.();
  }
}
