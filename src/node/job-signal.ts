/**
 * The worker side of a {@link WorkerPool} job: its cooperative `AbortSignal`.
 * @module
 */
/** @internal What a running job can see of itself. */
export interface JobContext {
  readonly signal: AbortSignal;
}

/**
 * @internal The job running now in this worker (a worker runs one job at a
 * time, so a slot is enough, and cheaper than AsyncLocalStorage, whose
 * promise hooks would slow every job down). Kept on `globalThis` under a
 * registered symbol, so that a worker module importing another copy of
 * aiokit (another path or version) still finds the job started by this one.
 */
export interface JobSlot {
  current: JobContext | undefined;
}

const registry = globalThis as { [key: symbol]: JobSlot | undefined };
const key = Symbol.for("aiokit.workerJob");
registry[key] ??= { current: undefined };
/** @internal */
export const jobSlot: JobSlot = registry[key];

/**
 * Inside a function run by a {@link WorkerPool} (or {@link toWorker}), the
 * current job's `AbortSignal`: aborted when the caller's signal aborts (with
 * a `CancelledError`). Pass it on to whatever the job awaits, or check it in
 * a synchronous loop: `signal.aborted` and `signal.throwIfAborted()` see the
 * cancellation at once, even while the worker's event loop is busy.
 *
 * A job that ignores it is terminated (its worker replaced) when the pool's
 * `cancelGrace` runs out.
 *
 * @example
 * ```ts
 * // hash.ts, run with toWorker(new URL("./hash.js", import.meta.url), "crack")
 * import { jobSignal } from "aiokit/node";
 * export function crack(target: string): number {
 *   const signal = jobSignal();
 *   for (let n = 0; ; n++) {
 *     if (n % 10_000 === 0) signal.throwIfAborted();
 *     if (sha256(String(n)) === target) return n;
 *   }
 * }
 * ```
 *
 * @throws Error when called outside a job run by a worker pool.
 */
export function jobSignal(): AbortSignal {
  const context = jobSlot.current;
  if (context === undefined) {
    throw new Error(
      "Cannot get the job's signal: jobSignal() was called outside a worker pool job",
    );
  }
  return context.signal;
}
