import type { Outcome, QueueMapOptions, RunOptions } from "./options.js";
import type { TaskDefinition } from "./task.js";

/** The inputs `queue.run` accepts: any iterable or async iterable. */
export type RunInput<I> = Iterable<I> | AsyncIterable<I>;

/**
 * What {@link localQueue} and `distributedQueue` return: the same interface,
 * so a program moves from one process to many machines by changing one line.
 *
 * @example
 * ```ts
 * import { distributedQueue, localQueue } from "aiokit/bullmq";
 * const queue = process.env.REDIS_URL ? distributedQueue("crawl", { connection: process.env.REDIS_URL }) : localQueue();
 * for await (const outcome of queue.run(urls, fetchPage, { concurrency: 20 })) console.log(outcome.index, outcome.status);
 * ```
 */
export interface JobQueue {
  /**
   * Runs every input through `task` and yields each input's {@link Outcome}
   * as it finishes (not in input order), each input exactly once. Inputs are
   * pulled lazily, at most `window` at a time. Breaking out of the loop, or
   * aborting `signal`, cancels the run.
   */
  run<I, O>(
    inputs: RunInput<I>,
    task: TaskDefinition<I, O>,
    options?: RunOptions<I>,
  ): AsyncIterable<Outcome<O>>;
  /**
   * `map`'s contract over `run`: resolves to the values in input order; the
   * first error rejects and cancels the run; `settle: true` collects a
   * `PromiseSettledResult` per input instead.
   */
  map<I, O>(
    inputs: RunInput<I>,
    task: TaskDefinition<I, O>,
    options: QueueMapOptions<I> & { readonly settle: true },
  ): Promise<PromiseSettledResult<O>[]>;
  map<I, O>(
    inputs: RunInput<I>,
    task: TaskDefinition<I, O>,
    options?: QueueMapOptions<I>,
  ): Promise<O[]>;
}

type Run = <I, O>(
  inputs: RunInput<I>,
  task: TaskDefinition<I, O>,
  options?: RunOptions<I>,
) => AsyncIterable<Outcome<O>>;

/** Builds a {@link JobQueue} from its `run`: `map` is the same for both kinds. */
export function jobQueue(run: Run): JobQueue {
  async function map<I, O>(
    inputs: RunInput<I>,
    task: TaskDefinition<I, O>,
    options: QueueMapOptions<I> = {},
  ): Promise<unknown[]> {
    const settle = options.settle === true;
    const results: unknown[] = [];
    // Breaking out of the loop cancels the run (its iterator's return()).
    for await (const outcome of run(inputs, task, options)) {
      if (outcome.status === "rejected" && !settle) throw outcome.reason;
      results[outcome.index] = settle
        ? outcome.status === "fulfilled"
          ? { status: "fulfilled", value: outcome.value }
          : { status: "rejected", reason: outcome.reason }
        : (outcome as { value: O }).value;
    }
    return results;
  }
  return { run, map } as JobQueue;
}
