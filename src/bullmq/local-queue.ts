import {
  type KeyedLimit,
  keyedLimiter,
  type Limit,
  limiter,
  map,
  Queue,
  RateLimiter,
} from "../index.js";
import { attempt, type Settled } from "./attempt.js";
import {
  type Checked,
  checkRunOptions,
  expectId,
  type Outcome,
  type RunOptions,
} from "./options.js";
import { type JobQueue, jobQueue, type RunInput } from "./queue-map.js";
import type { TaskDefinition } from "./task.js";

/**
 * A queue that runs every task in this process, with aiokit's `map`, `retry`,
 * limiters and rate limiter: the same contract as `distributedQueue`, so a
 * program can start here and move to many machines by changing this line.
 *
 * @example
 * ```ts
 * import { defineTask, localQueue } from "aiokit/bullmq";
 * const square = defineTask("square", (n: number) => n * n);
 * const squares = await localQueue().map([1, 2, 3], square, { concurrency: 2 }); // [1, 4, 9]
 * ```
 */
export function localQueue(): JobQueue {
  return jobQueue(runLocal);
}

async function* runLocal<I, O>(
  inputs: RunInput<I>,
  task: TaskDefinition<I, O>,
  options?: RunOptions<I>,
): AsyncGenerator<Outcome<O>, void, undefined> {
  const checked = checkRunOptions(options);
  const outer = checked.signal;
  outer?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  const out = new Queue<Outcome<O>>({ maxsize: checked.window });
  const start = starter(checked);
  const ids = new Set<string>();
  let failure: { error: unknown } | undefined;
  // `map` bounds what is in flight by the window; `start` applies the run's
  // own limits, so a busy key does not hold a slot of the whole run.
  const done = map(
    inputs,
    async (input: I, index, signal) => {
      const id =
        checked.id === undefined ? String(index) : expectId(checked.id(input, index), index);
      if (ids.has(id))
        throw new TypeError(`Expected \`id\` to be unique in the run, got ${id} twice`);
      ids.add(id);
      const key = checked.key?.(input, index);
      const settled = await start(key, (s) => attempt(task, input, id, checked.retry, s), signal);
      ids.delete(id);
      await out.put({ index, id, ...settled }, { signal });
    },
    { concurrency: checked.window, signal: controller.signal },
  ).then(
    () => out.shutdown(),
    (error: unknown) => {
      failure = { error };
      out.shutdown();
    },
  );
  try {
    for await (const outcome of out) yield outcome;
    if (failure !== undefined) throw failure.error;
  } finally {
    outer?.removeEventListener("abort", onAbort);
    controller.abort(outer?.reason);
    await done;
  }
}

type Start = <O>(
  key: string | undefined,
  fn: (signal: AbortSignal) => Promise<Settled<O>>,
  signal: AbortSignal,
) => Promise<Settled<O>>;

/** The run's `concurrency`, `perKey` and `rate`, applied when an input starts. */
function starter<I>(checked: Checked<I>): Start {
  const rate = checked.rate === undefined ? undefined : new RateLimiter(checked.rate);
  const keyed: KeyedLimit<string> | undefined =
    checked.key === undefined
      ? undefined
      : keyedLimiter({ perKey: checked.perKey, concurrency: checked.concurrency });
  const all: Limit = limiter(checked.concurrency);
  return (key, fn, signal) => {
    const limited = async (s: AbortSignal) => {
      await rate?.acquire({ signal: s });
      return fn(s);
    };
    return keyed !== undefined && key !== undefined
      ? keyed(key, limited, { signal })
      : all(limited, { signal });
  };
}
