import { addAbortListener, removeAbortListener } from "../_internal/abort.js";
import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import { getClock } from "../clock.js";
import { toArray } from "./gather.js";
import { Task } from "./task.js";

/** When {@link wait} returns, as in asyncio. */
export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";

/** Options of {@link wait}. */
export interface WaitOptions {
  /** Default `"ALL_COMPLETED"`. */
  readonly returnWhen?: ReturnWhen | undefined;
  /** Return after this many ms even if the condition is not met (nothing is cancelled). */
  readonly timeout?: number | undefined;
  /** Aborting it rejects the wait with its reason (the tasks are not touched). */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link wait} resolves to: the same objects that were passed in, split by state. */
export interface WaitResult<P> {
  readonly done: Set<P>;
  readonly pending: Set<P>;
}

/**
 * Waits for tasks (or any promises) until the first completes, the first
 * fails, or all complete: `asyncio.wait`. It neither cancels nor consumes
 * anything: the tasks are returned in `done` and `pending` sets for you to
 * await or cancel. A cancelled task counts as completed, not as failed.
 *
 * @example
 * ```ts
 * import { taskGroup, wait } from "aiokit";
 * await taskGroup(async (tg) => {
 *   const tasks = urls.map((url) => tg.spawn((signal) => fetch(url, { signal })));
 *   const { done, pending } = await wait(tasks, { returnWhen: "FIRST_COMPLETED" });
 *   for (const task of pending) task.cancel();
 * });
 * ```
 */
export function wait<P extends PromiseLike<unknown>>(
  tasks: Iterable<P>,
  options: WaitOptions = {},
): Promise<WaitResult<P>> {
  const returnWhen = options.returnWhen ?? "ALL_COMPLETED";
  let list: readonly P[];
  try {
    list = toArray(tasks, "wait");
    if (
      returnWhen !== "FIRST_COMPLETED" &&
      returnWhen !== "FIRST_EXCEPTION" &&
      returnWhen !== "ALL_COMPLETED"
    ) {
      throw new TypeError(
        `Expected \`returnWhen\` to be "FIRST_COMPLETED", "FIRST_EXCEPTION" or "ALL_COMPLETED", got ${describe(returnWhen)}`,
      );
    }
    if (options.timeout !== undefined)
      expectNumber("`timeout`", options.timeout, { allowInfinity: true });
    expectSignal(options.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const all = [...new Set(list)];
  const done = new Set<P>();
  const pending = new Set<P>(all);
  return new Promise<WaitResult<P>>((resolve, reject) => {
    let finished = false;
    const clock = getClock();
    let timer: unknown;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clock.clearTimer(timer);
      if (signal !== undefined) removeAbortListener(signal, onAbort);
      resolve({ done: new Set(done), pending: new Set(pending) });
    };
    const onAbort = (): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clock.clearTimer(timer);
      reject(signal?.reason);
    };
    const settled = (task: P, failed: boolean): void => {
      if (finished) return;
      pending.delete(task);
      done.add(task);
      if (returnWhen === "FIRST_COMPLETED" || pending.size === 0) finish();
      else if (returnWhen === "FIRST_EXCEPTION" && failed) finish();
    };
    if (all.length === 0) return finish();
    if (signal !== undefined) addAbortListener(signal, onAbort);
    if (options.timeout !== undefined && options.timeout !== Number.POSITIVE_INFINITY) {
      timer = clock.setTimer(finish, options.timeout);
    }
    for (const task of all) {
      task.then(
        () => settled(task, false),
        () => settled(task, !(task instanceof Task) || task.state === "rejected"),
      );
    }
  });
}
