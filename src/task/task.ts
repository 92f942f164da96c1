import { noop } from "../_internal/abort.js";
import { instrument } from "../_internal/instrument.js";
import { isThenable } from "../_internal/thenable.js";
import { CancelledError, isCancellation } from "../errors.js";

/** Where a task is in its life. */
export type TaskState = "pending" | "fulfilled" | "rejected" | "cancelled";

/** The work a task runs: gets the task's `AbortSignal`, returns a value or a promise. */
export type TaskFn<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** @internal What a task needs from the group that owns it. */
export interface TaskOwner {
  readonly signal: AbortSignal;
  /** Called once, when the task settles. */
  taskSettled(task: Task<unknown>, error: unknown, failed: boolean): void;
  /** Called when the task creates its own AbortController, so group cancellation reaches it. */
  taskSignalCreated(task: Task<unknown>): void;
}

let nextId = 1;

/**
 * A unit of concurrent work owned by a {@link TaskGroup}: asyncio's `Task`.
 * Awaitable like a promise; rejects with the task's error, or with a
 * cancellation when it was cancelled. Create one with `tg.spawn(fn)`.
 *
 * @example
 * ```ts
 * import { taskGroup } from "aiokit";
 * await taskGroup(async (tg) => {
 *   const user = tg.spawn((signal) => getJson("/user", signal), { name: "user" });
 *   console.log(user.name, user.state); // "user" "pending"
 *   console.log(await user);
 * });
 * ```
 */
export class Task<T> implements PromiseLike<T> {
  // A task is the unit a million of which a program may spawn at once, so it
  // keeps few fields (each costs 8 bytes per task and garbage-collector time):
  // the value or error share one, and what most tasks never use (a name,
  // a cancel request, an awaiter) lives in `#rare`, made on first use.
  readonly #id = nextId++;
  readonly #owner: TaskOwner;
  #state: TaskState = "pending";
  #outcome: T | unknown;
  #controller: AbortController | undefined;
  #rare: RareFields<T> | undefined;

  /** @internal Links in the owner's list of tasks that have their own signal. */
  _prev: Task<unknown> | undefined;
  /** @internal */
  _next: Task<unknown> | undefined;

  /** @internal Tasks are created by `TaskGroup.spawn`. */
  constructor(owner: TaskOwner, name: string | undefined) {
    this.#owner = owner;
    if (name !== undefined) this.#rareFields().name = name;
  }

  #rareFields(): RareFields<T> {
    this.#rare ??= new RareFields<T>();
    return this.#rare;
  }

  /** The name given to `spawn`, or `Task-<n>` as asyncio names them. */
  get name(): string {
    return this.#rare?.name ?? `Task-${this.#id}`;
  }

  /** A number unique to this task within the process. */
  get id(): number {
    return this.#id;
  }

  /** `"pending"` until the task's function settles. */
  get state(): TaskState {
    return this.#state;
  }

  /**
   * The task's own signal: aborted by `task.cancel()`, by its group's
   * cancellation and by its group's outer signal. Pass it to every `fetch`,
   * `sleep` or wait inside the task.
   */
  get signal(): AbortSignal {
    // Made on first use only for a task that never ran (spawned into a
    // cancelled group); a running task got its signal in `_start`.
    if (this.#controller === undefined) this.#createSignal();
    return (this.#controller as AbortController).signal;
  }

  #createSignal(): AbortSignal {
    const controller = new AbortController();
    this.#controller = controller;
    const groupSignal = this.#owner.signal;
    const rare = this.#rare;
    if (rare?.cancelRequested) controller.abort(rare.cancelReason);
    else if (groupSignal.aborted) controller.abort(groupSignal.reason);
    // The group reaches the task through its own list (one entry per running
    // task, no listener on the group's signal per task).
    else if (this.#state === "pending")
      this.#owner.taskSignalCreated(this as unknown as Task<unknown>);
    // So a group given this signal can name this task as its parent in the task tree.
    instrument?.taskSignalCreated(this as unknown as Task<unknown>, controller.signal);
    return controller.signal;
  }

  /**
   * Asks the task to stop: aborts its signal with `reason` (a
   * {@link CancelledError} by default). The task's group does not fail
   * because of it; awaiting the task rejects with the cancellation once its
   * function has settled. A no-op once the task has settled. Idempotent.
   *
   * Every task has its own signal, however its function is written
   * (`() => work()`, `(...args) => work(...args)`, a wrapper): `cancel()`
   * aborts it, and so does the group's cancellation.
   */
  cancel(reason?: unknown): void {
    if (this.#state !== "pending" || this.#rare?.cancelRequested) return;
    const rare = this.#rareFields();
    rare.cancelRequested = true;
    rare.cancelReason = reason ?? new CancelledError(`Task "${this.name}" was cancelled`);
    this.#controller?.abort(rare.cancelReason);
  }

  /** True once `cancel()` was called (the task may still be running). */
  get cancelRequested(): boolean {
    return this.#rare?.cancelRequested === true;
  }

  /** Awaits the task's outcome, as a promise's `then`. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise().then(onFulfilled, onRejected);
  }

  /** Awaits the task, handling a rejection, as a promise's `catch`. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#promise().catch(onRejected);
  }

  /** Runs `onFinally` once the task has settled, as a promise's `finally`. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#promise().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return "Task";
  }

  /** `<Task "name" pending>`, for logs. */
  toString(): string {
    return `<Task "${this.name}" ${this.#state}>`;
  }

  /** @internal Starts `fn` with the right signal; called once by the owner. */
  _start(fn: TaskFn<T>): void {
    let result: T | PromiseLike<T>;
    try {
      // Every task gets its own signal: a function's declared parameters say
      // nothing of whether it reads one (rest parameters, `arguments`, wrappers).
      // The group checked that it is not cancelling; nothing can cancel a
      // task before it starts: link it without the checks of #createSignal.
      const controller = new AbortController();
      this.#controller = controller;
      const signal = controller.signal;
      this.#owner.taskSignalCreated(this as unknown as Task<unknown>);
      if (instrument === undefined) result = fn(signal);
      else {
        instrument.taskSignalCreated(this as unknown as Task<unknown>, signal);
        instrument.taskSpawned(this as unknown as Task<unknown>, this.#owner as never);
        result = instrument.runTask(this as unknown as Task<unknown>, () => fn(signal));
      }
    } catch (error) {
      this._reject(error);
      return;
    }
    try {
      // As a promise would: a `then` (or its getter) that throws rejects the task.
      // A `then` that calls back more than once settles it once (see #finish).
      if (isThenable(result)) {
        // Bound functions, not two arrow functions: no closure context, and
        // ~60 bytes less per task (1M tasks pending at once is the case to serve).
        const self = this as unknown as Task<unknown>;
        result.then(fulfilTask.bind(self), rejectTask.bind(self));
      } else {
        this._fulfill(result);
      }
    } catch (error) {
      this._reject(error);
    }
  }

  /** @internal Settles as cancelled without running (spawned into a cancelled group). */
  _cancelBeforeStart(reason: unknown): void {
    instrument?.taskSpawned(this as unknown as Task<unknown>, this.#owner as never);
    const rare = this.#rareFields();
    rare.cancelRequested = true;
    rare.cancelReason = reason;
    this.#finish("cancelled", reason);
  }

  /** @internal Aborts the task's own signal because its group is cancelling. */
  _abort(reason: unknown): void {
    this.#controller?.abort(reason);
  }

  /** @internal */
  _fulfill(value: T): void {
    this.#finish("fulfilled", value);
  }

  /** @internal */
  _reject(error: unknown): void {
    this.#finish(this.#isOwnCancellation(error) ? "cancelled" : "rejected", error);
  }

  #isOwnCancellation(error: unknown): boolean {
    if (isCancellation(error)) return true;
    const own = this.#controller?.signal;
    if (own?.aborted && own.reason === error) return true;
    const group = this.#owner.signal;
    return group.aborted && group.reason === error;
  }

  /** Settles once: `outcome` is the value when fulfilled, else the error or cancellation. */
  #finish(state: TaskState, outcome: unknown): void {
    if (this.#state !== "pending") return;
    this.#state = state;
    this.#outcome = outcome;
    const settled = this.#rare?.settled;
    if (settled !== undefined) {
      if (state === "fulfilled") settled.resolve(outcome as T);
      else settled.reject(outcome);
    }
    instrument?.taskSettled(this as unknown as Task<unknown>);
    const failed = state === "rejected";
    this.#owner.taskSettled(this as unknown as Task<unknown>, failed ? outcome : undefined, failed);
  }

  #promise(): Promise<T> {
    const rare = this.#rareFields();
    if (rare.settled !== undefined) return rare.settled.promise;
    let promise: Promise<T>;
    if (this.#state === "fulfilled") promise = Promise.resolve(this.#outcome as T);
    else if (this.#state !== "pending") promise = Promise.reject(this.#outcome);
    else {
      let resolve!: (value: T) => void;
      let reject!: (error: unknown) => void;
      promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      rare.settled = { promise, resolve, reject };
      return promise;
    }
    rare.settled = { promise, resolve: noop, reject: noop };
    return promise;
  }
}

/** What a task needs only sometimes: kept apart so the common task stays small. */
class RareFields<T> {
  name: string | undefined = undefined;
  cancelRequested = false;
  cancelReason: unknown = undefined;
  settled:
    | { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void }
    | undefined = undefined;
}

function fulfilTask(this: Task<unknown>, value: unknown): void {
  this._fulfill(value);
}

function rejectTask(this: Task<unknown>, error: unknown): void {
  this._reject(error);
}
