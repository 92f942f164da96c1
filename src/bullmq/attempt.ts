import { type RetryOptions, retry } from "../index.js";
import type { TaskDefinition } from "./task.js";

/** An input's result before it gets its index: what a worker reports. */
export type Settled<O> =
  | { readonly status: "fulfilled"; readonly value: O; readonly attempts: number }
  | { readonly status: "rejected"; readonly reason: unknown; readonly attempts: number };

/**
 * Runs one input through a task with aiokit's `retry`, the same in the
 * producer (local queue) and in a worker (distributed queue), and never
 * rejects: the error is the outcome.
 */
export async function attempt<I, O>(
  task: TaskDefinition<I, O>,
  input: I,
  id: string,
  options: RetryOptions,
  signal: AbortSignal,
): Promise<Settled<O>> {
  let attempts = 0;
  try {
    const value = await retry(
      (n, retrySignal) => {
        attempts = n;
        return task.fn(input, { signal: retrySignal, attempt: n, id });
      },
      { ...options, signal },
    );
    return { status: "fulfilled", value, attempts };
  } catch (reason) {
    return { status: "rejected", reason, attempts };
  }
}
