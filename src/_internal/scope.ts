import { link, noop, onAbort, sharedController } from "./abort.js";

/**
 * @internal One structured-concurrency scope: the piece every combinator
 * (race, asCompleted, gather, …) is written on. It owns the four rules they
 * share, so each is decided here only:
 *
 * - the parent signal is linked (with {@link link}) for the scope's lifetime,
 *   and unlinked when it settles;
 * - the first {@link cancel} wins: it aborts the shared signal with its
 *   reason, later calls do nothing (so the first failure cancels the rest);
 * - it settles only after every {@link enter}ed item has {@link exit}ed and
 *   {@link close} was called (wait for all);
 * - it settles once.
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
  readonly #parent: AbortSignal | undefined;
  readonly #unlink: () => void;
  #running = 0;
  #open = true;
  #settled = false;
  #onSettled: (() => void) | undefined;
  readonly #onCancel: ((reason: unknown) => void) | undefined;

  /**
   * `onCancel` runs once, right after the signal aborted (by {@link cancel}
   * or by the parent) and its listeners ran: TaskGroup reaches its tasks this
   * way, since a task adds no listener of its own. With it, the parent is
   * linked through `cancel()` instead of {@link link}, so the hook runs on
   * the parent's abort too.
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
    return this.#controller.signal;
  }

  /** Whether the scope was cancelled (by {@link cancel} or by its parent). */
  get cancelled(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Whether the parent signal aborted (the caller then throws the parent's reason). */
  get parentAborted(): boolean {
    return this.#parent?.aborted === true;
  }

  /** How many entered items have not exited yet. */
  get running(): number {
    return this.#running;
  }

  /** Cancels every item with `reason`; the first call wins. Returns whether this call did it. */
  cancel(reason: unknown): boolean {
    if (this.#controller.signal.aborted) return false;
    this.#controller.abort(reason);
    this.#onCancel?.(reason);
    return true;
  }

  /** Counts one more item the scope waits for. */
  enter(): void {
    this.#running++;
  }

  /** Counts one item as settled; the last one after {@link close} settles the scope. */
  exit(): void {
    if (--this.#running === 0 && !this.#open) this.#settle();
  }

  /** No more items: calls `onSettled` once every item has exited (at once if none is running). */
  close(onSettled: () => void): void {
    if (!this.#open) throw new Error("Scope.close() called twice");
    this.#open = false;
    this.#onSettled = onSettled;
    if (this.#running === 0) this.#settle();
  }

  /** {@link close} as a promise. */
  whenAll(): Promise<void> {
    return new Promise<void>((resolve) => this.close(resolve));
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#unlink();
    this.#onSettled?.();
  }
}
