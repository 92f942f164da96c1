/**
 * `toWorker(moduleUrl, exportName)`: a worker module's export as a typed
 * async function that runs on a worker thread.
 * @module
 */
import {
  type AnyFunction,
  type CallOptions,
  expectName,
  toHref,
  type WorkerFunction,
  WorkerPool,
} from "./worker-pool.js";

/** Options of {@link toWorker}. */
export interface ToWorkerOptions {
  /** The pool to run in. Default: {@link defaultWorkerPool}. */
  readonly pool?: WorkerPool;
}

let shared: WorkerPool | undefined;

/**
 * The pool {@link toWorker} uses unless told otherwise, created on first use
 * with the default options (one thread per core). Its idle threads never keep
 * the process alive.
 *
 * @example
 * ```ts
 * import { defaultWorkerPool } from "aiokit/node";
 * console.log(defaultWorkerPool().statistics());
 * ```
 */
export function defaultWorkerPool(): WorkerPool {
  shared ??= new WorkerPool({ name: "default worker pool" });
  return shared;
}

/**
 * Turns the export `exportName` of the worker module at `moduleUrl` into an
 * async function that runs it on a worker thread, typed after the export:
 * asyncio's `to_thread` for CPU-bound work. Arguments and results are copied
 * (structured clone); per-call options go through `.with()` — a `signal` to
 * cancel, a `transfer` list to move buffers instead of copying them — so they
 * never collide with the function's own arguments.
 *
 * Cancellation: see {@link CallOptions.signal}. Errors: the job's error, with
 * its stack from the worker. Inside the worker, {@link jobSignal} is the
 * job's signal.
 *
 * Note: the type parameter is the only link between the call and the module:
 * write it as `typeof import("./file.js")["name"]` so a changed signature
 * breaks the build.
 *
 * @example
 * ```ts
 * import { toWorker } from "aiokit/node";
 * const sha256 = toWorker<typeof import("./hash.js")["sha256"]>(
 *   new URL("./hash.js", import.meta.url),
 *   "sha256",
 * );
 * const digest = await sha256(data); // string, computed on a worker thread
 * const again = await sha256.with({ signal: AbortSignal.timeout(1_000) })(data);
 * ```
 *
 * @throws TypeError for a module that is neither a URL nor an absolute path, or an empty export name.
 */
export function toWorker<F extends AnyFunction = AnyFunction>(
  moduleUrl: string | URL,
  exportName = "default",
  options: ToWorkerOptions = {},
): WorkerFunction<F> {
  if (options.pool !== undefined && !(options.pool instanceof WorkerPool)) {
    throw new TypeError("Expected `pool` to be a WorkerPool");
  }
  const pool = options.pool;
  if (pool !== undefined) return pool.fn<F>(moduleUrl, exportName);
  const href = toHref(moduleUrl);
  expectName(exportName);
  // The default pool is created on the first call, not here.
  let fn: WorkerFunction<F> | undefined;
  const resolve = (): WorkerFunction<F> => {
    fn ??= defaultWorkerPool().fn<F>(href, exportName);
    return fn;
  };
  const lazy = ((...args: Parameters<F>) => resolve()(...args)) as WorkerFunction<F>;
  Object.defineProperties(lazy, {
    with: { value: (callOptions: CallOptions) => resolve().with(callOptions) },
    moduleUrl: { value: href, enumerable: true },
    exportName: { value: exportName, enumerable: true },
    name: { value: exportName },
  });
  return lazy;
}
