import { expectFunction, expectSignal } from "../_internal/describe.js";
import { instrument } from "../_internal/instrument.js";
import { Scope } from "../_internal/scope.js";
import { CancelledError, isCancellation, TaskGroupError } from "../errors.js";
import { Task, type TaskFn } from "./task.js";

/** Options of {@link TaskGroup} and {@link taskGroup}. */
export interface TaskGroupOptions {
  /** Aborting it cancels every task of the group; the group then rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
  /** Shown in errors, logs and the task tree. */
  readonly name?: string | undefined;
}

/** Options of {@link TaskGroup.spawn}. */
export interface SpawnOptions {
  /** Shown in errors, logs and the task tree (default `Task-<n>`). */
  readonly name?: string | undefined;
}

type GroupState = "open" | "closing" | "finished";

/**
 * A scope that owns concurrent tasks: asyncio's `TaskGroup`, trio's nursery.
 * No task outlives it. When any task fails, every other task's signal is
 * aborted, the group waits for **all** of them to settle, then fails with a
 * {@link TaskGroupError} holding every real error (cancellations are not
 * errors).
 *
 * Prefer {@link taskGroup}, which also cancels the children when the body
 * throws. With `await using`, the disposer cannot see an error thrown by the
 * block, so that error does not cancel the children: the group still waits
 * for them before the error propagates.
 *
 * @example
 * ```ts
 * import { TaskGroup, sleep } from "aiokit";
 * {
 *   await using tg = new TaskGroup({ name: "crawler" });
 *   tg.spawn((signal) => sleep(100, { signal }));
 *   tg.spawn(async (signal) => (await fetch(url, { signal })).text());
 * } // waits here for both tasks; throws TaskGroupError if one failed
 * ```
 */
export class TaskGroup implements AsyncDisposable {
  readonly #name: string | undefined;
  // Links the outer signal and decides the first cancellation; the group
  // reaches its tasks from the scope's onCancel. Initialised last in the
  // constructor: an already-aborted outer signal runs onCancel at once.
  readonly #scope: Scope;
  readonly #outer: AbortSignal | undefined;
  #state: GroupState = "open";
  #spawned = 0;
  readonly #errors: unknown[] = [];
  // The error objects in #errors, so one failure rethrown by whoever awaited it is kept once.
  #seen: WeakSet<object> | undefined;
  #cancelledByUser = false;
  #finishing: Promise<void> | undefined;
  // Tasks that have their own AbortController, so cancellation can reach them.
  #head: Task<unknown> | undefined;

  constructor(options: TaskGroupOptions = {}) {
    expectSignal(options.signal);
    this.#name = options.name;
    const outer = options.signal;
    this.#outer = outer;
    this.#scope = new Scope(outer, (reason) => this.#abortTasks(reason));
    instrument?.groupCreated(this, outer);
  }

  /** The group's name, if it was given one. */
  get name(): string | undefined {
    return this.#name;
  }

  /** Aborted when the group is cancelled: by a failing task, `cancel()`, or the outer signal. */
  get signal(): AbortSignal {
    return this.#scope.signal;
  }

  /**
   * Number of tasks still running (CONTRIBUTING rule 2: `active` is what is
   * in use, `pending` what waits).
   *
   * @example
   * ```ts
   * import { sleep, taskGroup } from "aiokit";
   * await taskGroup((tg) => {
   *   tg.spawn((signal) => sleep(10, { signal }));
   *   console.log(tg.activeCount); // 1
   * });
   * ```
   */
  get activeCount(): number {
    return this.#scope.running;
  }

  /**
   * Number of tasks still running.
   *
   * @deprecated Since 0.2.0: read {@link TaskGroup.activeCount} (the same
   * number). Removed in 0.3.0.
   */
  get pendingCount(): number {
    return this.activeCount;
  }

  /** Number of tasks spawned so far. */
  get spawnedCount(): number {
    return this.#spawned;
  }

  /** `"open"` (accepting tasks), `"closing"` (waiting for its tasks) or `"finished"`. */
  get state(): GroupState {
    return this.#state;
  }

  /** Errors recorded so far, in the order they happened (a copy). */
  get errors(): readonly unknown[] {
    return this.#errors.slice();
  }

  /** True once the group's signal is aborted. */
  get cancelled(): boolean {
    return this.#scope.signal.aborted;
  }

  /**
   * Starts `fn(signal)` as a task of this group and returns its {@link Task}.
   * `fn` starts at once (synchronously, like calling an async function). A
   * throw or rejection fails the group; it is never an unhandled rejection.
   * Spawning into a group that is cancelling returns a task that is already
   * cancelled, without calling `fn`.
   *
   * `fn` gets the task's own signal, whatever parameters it declares:
   * `task.cancel()` aborts it, and so does the group's cancellation (the group
   * reaches its tasks through its own list, so a task adds no listener to the
   * group's signal).
   *
   * @throws Error when the group has finished.
   */
  spawn<T>(fn: TaskFn<T>, options?: SpawnOptions): Task<Awaited<T>> {
    expectFunction("the task", fn);
    if (this.#state === "finished") {
      throw new Error(`Cannot spawn a task in ${this.#label()}: the group has finished`);
    }
    const task = new Task<Awaited<T>>(this, options?.name);
    this.#scope.enter();
    this.#spawned++;
    const signal = this.#scope.signal;
    if (signal.aborted) task._cancelBeforeStart(signal.reason);
    else task._start(fn as TaskFn<Awaited<T>>);
    return task;
  }

  /**
   * Cancels the group: aborts the signal of every task (`reason` defaults to a
   * {@link CancelledError}). As asyncio's `TaskGroup.cancel()`, this is a clean
   * early exit: once the tasks have settled, the group finishes without an
   * error. Idempotent.
   */
  cancel(reason?: unknown): void {
    if (this.#scope.signal.aborted || this.#state === "finished") return;
    this.#cancelledByUser = true;
    this.#cancelAll(reason ?? new CancelledError(`${capitalize(this.#label())} was cancelled`));
  }

  /**
   * Waits for every task, then settles the group: rejects with
   * {@link TaskGroupError} when a task failed, with the outer signal's reason
   * when that aborted, else resolves. After it, the group accepts no new
   * tasks. Calling it again returns the same promise.
   */
  join(): Promise<void> {
    this.#finishing ??= this.#finish();
    return this.#finishing;
  }

  /** `await using tg = new TaskGroup()`: {@link TaskGroup.join} at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.join();
  }

  /** `<TaskGroup "name" open tasks=2 errors=1 cancelling>`, for logs. */
  toString(): string {
    const name = this.#name === undefined ? "" : ` "${this.#name}"`;
    const cancelling = this.cancelled && this.#state !== "finished" ? " cancelling" : "";
    return `<TaskGroup${name} ${this.#state} tasks=${this.#scope.running} errors=${this.#errors.length}${cancelling}>`;
  }

  /** @internal The body of `taskGroup()` failed with `error`. */
  _bodyFailed(error: unknown): void {
    if (this.signal.aborted && error === this.signal.reason) return;
    // A body cut short by some other cancellation (say, awaiting a cancelled
    // task) is leaving too: cancel the children, as asyncio does, without
    // counting it as a failure.
    if (isCancellation(error)) this.#cancelAll(error);
    else this.#fail(error, "the body");
  }

  /** @internal True when the group was cancelled with `cancel()`. */
  get _cancelledByUser(): boolean {
    return this.#cancelledByUser;
  }

  /** @internal */
  taskSettled(task: Task<unknown>, error: unknown, failed: boolean): void {
    this.#unlinkTask(task);
    if (failed) this.#fail(error, `task "${task.name}"`);
    this.#scope.exit();
  }

  /** @internal */
  taskSignalCreated(task: Task<unknown>): void {
    task._next = this.#head;
    if (this.#head !== undefined) this.#head._prev = task;
    this.#head = task;
  }

  #unlinkTask(task: Task<unknown>): void {
    const { _prev: prev, _next: next } = task;
    if (prev === undefined && next === undefined && this.#head !== task) return;
    if (prev === undefined) this.#head = next;
    else prev._next = next;
    if (next !== undefined) next._prev = prev;
    task._prev = undefined;
    task._next = undefined;
  }

  #fail(error: unknown, who: string): void {
    if ((typeof error === "object" && error !== null) || typeof error === "function") {
      // The body or a sibling that awaited a failed task rethrows the same error.
      this.#seen ??= new WeakSet();
      if (this.#seen.has(error)) return;
      this.#seen.add(error);
    }
    this.#errors.push(error);
    this.#cancelAll(
      new CancelledError(`Cancelled because ${who} of ${this.#label()} failed`, { cause: error }),
    );
  }

  #cancelAll(reason: unknown): void {
    this.#scope.cancel(reason);
  }

  #abortTasks(reason: unknown): void {
    // Take each task off the list before aborting it: a task can settle (and
    // unlink itself) synchronously inside its abort, which would cut a walk
    // along `_next` short. No task joins the list once the group is aborted.
    for (let task = this.#head; task !== undefined; task = this.#head) {
      this.#unlinkTask(task);
      task._abort(reason);
    }
  }

  async #finish(): Promise<void> {
    if (this.#state === "open") this.#state = "closing";
    // Waits for every task, also one a callback of the last task spawns after
    // the count hit zero; the group refuses new tasks from the settle on.
    await this.#scope.closeWhenIdle(() => {
      this.#state = "finished";
    });
    instrument?.groupFinished(this);
    if (this.#errors.length > 0) throw new TaskGroupError(this.#errors, this.#name);
    if (this.#scope.parentAborted) throw this.#outer?.reason;
  }

  #label(): string {
    return this.#name === undefined ? "the task group" : `task group "${this.#name}"`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Runs `body(tg)` in a new {@link TaskGroup} and returns the body's value once
 * every task spawned in it has settled: `async with asyncio.TaskGroup() as tg`
 * as a function. If the body or any task fails, every task is cancelled and
 * the group rejects with a {@link TaskGroupError} (after all have settled).
 * If `options.signal` aborts, every task is cancelled and the group rejects
 * with the signal's reason.
 *
 * When `tg.cancel()` cuts the body itself short (the body rejects with that
 * cancellation), there is no value to return, so the cancellation is rethrown;
 * a body that completes returns its value even after `tg.cancel()`. A body that
 * rejects with any other cancellation (say, it awaited a cancelled task)
 * cancels the tasks too, and the group rethrows that cancellation once they
 * have settled.
 *
 * @example
 * ```ts
 * import { taskGroup } from "aiokit";
 * const [user, posts] = await taskGroup(async (tg) => {
 *   const user = tg.spawn((signal) => getJson("/user", signal));
 *   const posts = tg.spawn((signal) => getJson("/posts", signal));
 *   return [await user, await posts] as const;
 * });
 * ```
 */
export async function taskGroup<T>(
  body: (tg: TaskGroup) => T | PromiseLike<T>,
  options?: TaskGroupOptions,
): Promise<Awaited<T>> {
  expectFunction("the body", body);
  if (options?.signal?.aborted) throw options.signal.reason;
  const tg = new TaskGroup(options);
  let value: Awaited<T> | undefined;
  let bodyFailed = false;
  let bodyError: unknown;
  try {
    value = await body(tg);
  } catch (error) {
    bodyFailed = true;
    bodyError = error;
    tg._bodyFailed(error);
  }
  await tg.join();
  if (bodyFailed) throw bodyError;
  return value as Awaited<T>;
}
