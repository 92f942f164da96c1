/** What a task's function gets besides its input. */
export interface TaskContext {
  /** Aborted when the run is cancelled, or the worker running it is stopped hard: pass it to `fetch`. */
  readonly signal: AbortSignal;
  /** Which attempt this is, from 1 (retries count up). */
  readonly attempt: number;
  /** The input's id in its run: the `id` option's value, else its index as a string. */
  readonly id: string;
}

/** The function of a {@link TaskDefinition}. */
export type TaskFn<I, O> = (input: I, context: TaskContext) => O | PromiseLike<O>;

/**
 * A named task: the name crosses machines, the function does not, so the
 * producer and every worker import the module that defines it.
 *
 * @example
 * ```ts
 * import { defineTask } from "aiokit/bullmq";
 * export const fetchPage = defineTask("fetchPage", async (url: string, { signal }) =>
 *   (await fetch(url, { signal })).text(),
 * );
 * ```
 */
export interface TaskDefinition<I, O> {
  /** The name workers look the task up by. */
  readonly name: string;
  /** The function: runs in the producer (local queue) or in a worker (distributed queue). */
  readonly fn: TaskFn<I, O>;
}

const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/** Checks a queue or task name: used in Redis keys, so no `:`, spaces or other surprises. */
export function expectName(what: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `Expected ${what} to be 1 to 200 letters, digits, "_", "." or "-", got ${JSON.stringify(name) ?? String(name)}`,
    );
  }
}

/**
 * Defines a named task. Define it in a module that the producer and every
 * worker import (a closure cannot cross machines); workers find it by name.
 *
 * @example
 * ```ts
 * import { defineTask } from "aiokit/bullmq";
 * export const square = defineTask("square", (n: number, { signal, attempt }) => n * n);
 * ```
 */
export function defineTask<I, O>(name: string, fn: TaskFn<I, O>): TaskDefinition<I, O> {
  expectName("the task name", name);
  if (typeof fn !== "function") {
    throw new TypeError(`Expected the task's fn to be a function, got ${typeof fn}`);
  }
  return Object.freeze({ name, fn });
}
