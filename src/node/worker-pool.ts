/**
 * `WorkerPool`: CPU-bound work on worker threads, with aiokit's cancellation
 * on top of piscina.
 * @module
 */
import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ResourceLimits, TransferListItem } from "node:worker_threads";
import { Piscina } from "piscina";
import { noop, onAbort } from "../_internal/abort.js";
import { describe, expectNumber, expectSignal } from "../_internal/describe.js";
import type { Transfer } from "./transfer.js";
import {
  deserializeError,
  type JobMessage,
  JobState,
  type PingMessage,
  type PoolWorkerData,
  type SerializedError,
  STATE_SLOTS,
} from "./worker-protocol.js";

/** Any function a worker module can export. */
export type AnyFunction = (...args: never[]) => unknown;

/** What a job of `F` resolves with: its awaited result, unwrapped from {@link transfer}. */
export type JobResult<F extends AnyFunction> =
  Awaited<ReturnType<F>> extends Transfer<infer T> ? T : Awaited<ReturnType<F>>;

/** Per-call options of a job: `pool.run(…, options)` or `fn.with(options)(…args)`. */
export interface CallOptions {
  /**
   * Cancels the job: a queued job is removed from the queue; a running job's
   * {@link jobSignal} aborts, and if it has not finished after the pool's
   * `cancelGrace`, its worker is terminated (and replaced). The call rejects
   * with the signal's reason once the worker has let go of the job.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * ArrayBuffers, MessagePorts… among the arguments to move to the worker
   * instead of copying them. They are detached here once the call starts.
   */
  readonly transfer?: readonly TransferListItem[] | undefined;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most worker threads at once. Default: `os.availableParallelism()`. */
  readonly maxThreads?: number;
  /** Threads kept even when idle (started at once). Default 0. */
  readonly minThreads?: number;
  /** Milliseconds an idle thread above `minThreads` lives. Default 10 000. */
  readonly idleTimeout?: number;
  /** Most jobs waiting for a thread; more reject at once. Default `Infinity`. */
  readonly maxQueue?: number;
  /**
   * Milliseconds a cancelled running job has to stop by itself before its
   * worker is terminated. Default 1 000; 0 terminates at once; `Infinity`
   * never does.
   */
  readonly cancelGrace?: number;
  /** Limits of each worker's V8 heap (see `worker_threads.ResourceLimits`). */
  readonly resourceLimits?: ResourceLimits;
  /** Node options of the workers. Default: those of this process that apply to threads (so `--import tsx` carries over). */
  readonly execArgv?: readonly string[];
  /** Shown in errors and the statistics. */
  readonly name?: string;
}

/** A snapshot of a pool's counters: `pool.statistics()`. */
export interface WorkerPoolStatistics {
  readonly threads: number;
  /** Jobs waiting for a thread. */
  readonly waiting: number;
  /** Jobs a thread has taken and that have not settled yet. */
  readonly active: number;
  /**
   * The same as `waiting`: its old spelling (one spelling per counter, see
   * CONTRIBUTING.md).
   * @deprecated Read `waiting`; `queued` goes in 0.3.0.
   */
  readonly queued: number;
  /**
   * Jobs submitted and not settled: `waiting + active`.
   * @deprecated Read `waiting + active`; `pending` goes in 0.3.0.
   */
  readonly pending: number;
  readonly completed: number;
  /** Workers terminated because a cancelled job did not stop in time. */
  readonly terminated: number;
  /** Share of the threads' capacity used since the pool started, 0…1. */
  readonly utilization: number;
}

/**
 * A typed async function that runs a worker module's export in a pool, made
 * by {@link toWorker} or {@link WorkerPool.fn}. Call it with the function's
 * own arguments; per-call options go through `.with()`, so they can never be
 * mistaken for an argument.
 */
export interface WorkerFunction<F extends AnyFunction> {
  (...args: Parameters<F>): Promise<JobResult<F>>;
  /** The same function with a signal and/or a transfer list: `fn.with({ signal })(...args)`. */
  with(options: CallOptions): (...args: Parameters<F>) => Promise<JobResult<F>>;
  /** The module's URL. */
  readonly moduleUrl: string;
  /** The export it runs. */
  readonly exportName: string;
}

type Outcome = { value: unknown } | { error: SerializedError | { value: unknown } };

// CommonJS on purpose: see worker-loader.cts.
const entry = fileURLToPath(new URL("./worker-loader.cjs", import.meta.url));

/**
 * A pool of worker threads for CPU-bound work: asyncio's `run_in_executor`
 * with a process pool, or trio's `to_thread`, for Node. Built on
 * [piscina](https://github.com/piscinajs/piscina) (its queue, load balancing
 * and worker recycling), with aiokit's cancellation on top: every job takes a
 * `signal`; the job itself sees it as {@link jobSignal} inside the worker;
 * termination is the escalation after `cancelGrace`.
 *
 * Jobs name a module and one of its exports, so the worker code is an
 * ordinary module (TypeScript too, in development: `.ts` modules load through
 * tsx when it is installed). A job that throws rejects with its error —
 * same class for built-in errors, same name, message, stack and fields; a
 * worker that crashes rejects its job and is replaced; the pool keeps serving.
 *
 * Idle workers do not keep the process alive; pending jobs do. `close()` is
 * idempotent.
 *
 * Note: jobs start in submission order while they queue, but a cancellable
 * job (one with a `signal`) submitted just as a worker frees up may start
 * before an earlier one still waiting (piscina hands it out directly). Do not
 * make jobs wait for each other's start.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "aiokit/node";
 * import { taskGroup } from "aiokit";
 * await using pool = new WorkerPool({ maxThreads: 4 });
 * const sha256 = pool.fn<typeof import("./hash.js")["sha256"]>(new URL("./hash.js", import.meta.url), "sha256");
 * const digests = await taskGroup((tg) =>
 *   Promise.all(files.map((data) => tg.spawn((signal) => sha256.with({ signal })(data)))),
 * );
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  readonly #piscina: Piscina;
  readonly #cancelGrace: number;
  readonly #name: string;
  readonly #pending = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  #terminated = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  // Job states shared with every worker once (as workerData): a cancellable job
  // takes a free slot instead of sending a SharedArrayBuffer of its own.
  readonly #states = new Int32Array(new SharedArrayBuffer(4 * STATE_SLOTS));
  readonly #watched = new WeakMap<AbortSignal, Set<() => void>>();
  readonly #unwatch = new WeakMap<Set<() => void>, () => void>();
  readonly #freeSlots = Array.from({ length: STATE_SLOTS }, (_, i) => STATE_SLOTS - 1 - i);

  constructor(options: WorkerPoolOptions = {}) {
    const maxThreads = options.maxThreads ?? availableParallelism();
    expectNumber("`maxThreads`", maxThreads, { min: 1, integer: true });
    const minThreads = options.minThreads ?? 0;
    expectNumber("`minThreads`", minThreads, { integer: true });
    if (minThreads > maxThreads) {
      throw new RangeError(
        `Expected \`minThreads\` to be at most \`maxThreads\` (${maxThreads}), got ${minThreads}`,
      );
    }
    const idleTimeout = options.idleTimeout ?? 10_000;
    expectNumber("`idleTimeout`", idleTimeout);
    const maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    expectNumber("`maxQueue`", maxQueue, { integer: true, allowInfinity: true });
    const cancelGrace = options.cancelGrace ?? 1_000;
    expectNumber("`cancelGrace`", cancelGrace, { allowInfinity: true });
    this.#cancelGrace = cancelGrace;
    this.#name = options.name ?? "worker pool";
    this.#piscina = new Piscina({
      filename: entry,
      name: "default",
      maxThreads,
      minThreads,
      idleTimeout,
      maxQueue,
      workerData: { states: this.#states.buffer } satisfies PoolWorkerData,
      // A job piscina could not hand to a worker goes back to the head of its
      // queue, not the tail: jobs start in the order they were submitted.
      stricterFIFO: true,
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    });
    // piscina reports a close timeout as an 'error' event; we close it ourselves.
    this.#piscina.on("error", () => {});
  }

  /**
   * Runs `exportName` of the module at `moduleUrl` with `args` on a worker
   * thread. Resolves with its result, or rejects with its error; rejects
   * with `options.signal`'s reason when it aborts first (see
   * {@link CallOptions.signal}).
   *
   * @example
   * ```ts
   * const digest = await workers.run<typeof import("./hash.js")["sha256"]>(
   *   new URL("./hash.js", import.meta.url), "sha256", [data], { signal },
   * );
   * ```
   */
  run<F extends AnyFunction = AnyFunction>(
    moduleUrl: string | URL,
    exportName: string,
    args: Parameters<F>,
    options: CallOptions = {},
  ): Promise<JobResult<F>> {
    let job: JobMessage;
    try {
      job = { module: toHref(moduleUrl), name: expectName(exportName), args: expectArgs(args) };
      expectSignal(options.signal);
      if (this.#closing !== undefined) {
        throw new Error(`Cannot run ${JSON.stringify(exportName)}: the ${this.#name} is closed`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const transferList = options.transfer === undefined ? undefined : [...options.transfer];
    const promise =
      signal === undefined
        ? this.#piscina
            .run(job, transferList === undefined ? {} : { transferList: transferList as never })
            .then(unwrap, (error: unknown) => {
              // The worker crashed (a job's own error comes back as a value).
              this.#replaceWorkers();
              throw error;
            })
        : this.#runCancellable(job, signal, transferList);
    this.#pending.add(promise);
    // piscina's idle and starting workers are unref'd, and a job waiting in its
    // queue holds no handle: while a replacement worker starts, the process
    // could exit under a caller awaiting a job. Hold the loop while jobs are pending.
    if (this.#pending.size === 1) this.#keepAlive = setInterval(noop, 1 << 30);
    const forget = (): void => {
      this.#pending.delete(promise);
      if (this.#pending.size === 0 && this.#keepAlive !== undefined) {
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
      }
    };
    promise.then(forget, forget);
    return promise as Promise<JobResult<F>>;
  }

  /**
   * A typed function that runs `exportName` of `moduleUrl` in this pool: see
   * {@link toWorker}.
   */
  fn<F extends AnyFunction = AnyFunction>(
    moduleUrl: string | URL,
    exportName = "default",
  ): WorkerFunction<F> {
    const href = toHref(moduleUrl);
    expectName(exportName);
    const call = (options: CallOptions, args: Parameters<F>): Promise<JobResult<F>> =>
      this.run<F>(href, exportName, args, options);
    const fn = ((...args: Parameters<F>) => call({}, args)) as WorkerFunction<F>;
    Object.defineProperties(fn, {
      with: {
        value:
          (options: CallOptions) =>
          (...args: Parameters<F>) =>
            call(options, args),
      },
      moduleUrl: { value: href, enumerable: true },
      exportName: { value: exportName, enumerable: true },
      name: { value: exportName },
    });
    return fn;
  }

  /** A snapshot of the pool's counters. */
  statistics(): WorkerPoolStatistics {
    const waiting = this.#piscina.queueSize;
    const pending = this.#pending.size;
    const statistics = {
      threads: this.#piscina.threads.length,
      waiting,
      // Every queued job is pending too; the guard only hides a torn read.
      active: Math.max(0, pending - waiting),
      completed: this.#piscina.completed,
      terminated: this.#terminated,
      utilization: this.#piscina.utilization,
    };
    // The deprecated spellings, hidden from JSON and deepEqual (they go in 0.3.0).
    return Object.defineProperties(statistics, {
      queued: { value: waiting },
      pending: { value: pending },
    }) as WorkerPoolStatistics;
  }

  /**
   * Stops taking jobs, waits for the queued and running ones to settle, then
   * stops the threads. Idempotent: every call returns the same promise.
   * `await using pool = new WorkerPool()` closes it at the end of the block.
   *
   * Note: to stop running jobs instead of waiting, abort their signals first.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#pending.size > 0) {
        await Promise.allSettled([...this.#pending]);
      }
      await this.#piscina.destroy();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `<WorkerPool "name" threads=2 waiting=1 active=2>`, for logs. */
  toString(): string {
    const closed = this.#closing === undefined ? "" : " closed";
    const s = this.statistics();
    return `<WorkerPool "${this.#name}" threads=${s.threads} waiting=${s.waiting} active=${s.active}${closed}>`;
  }

  #runCancellable(
    job: JobMessage,
    signal: AbortSignal,
    transferList: TransferListItem[] | undefined,
  ): Promise<unknown> {
    const slot = this.#freeSlots.pop();
    let states = this.#states;
    let index = 0;
    let message: JobMessage;
    if (slot === undefined) {
      states = new Int32Array(new SharedArrayBuffer(4));
      message = { ...job, state: states.buffer as SharedArrayBuffer };
    } else {
      index = slot;
      Atomics.store(states, index, JobState.queued);
      message = { ...job, slot };
    }
    const escalate = new Escalation();
    let grace: NodeJS.Timeout | undefined;
    const removeListener = this.#onAbort(signal, () => {
      if (
        Atomics.compareExchange(states, index, JobState.queued, JobState.cancelled) ===
        JobState.queued
      ) {
        // Still in piscina's queue: aborting its signal removes it.
        escalate.abort();
      } else if (
        Atomics.compareExchange(states, index, JobState.running, JobState.cancelled) ===
        JobState.running
      ) {
        Atomics.notify(states, index);
        if (this.#cancelGrace === 0) this.#terminate(escalate);
        else if (this.#cancelGrace !== Number.POSITIVE_INFINITY) {
          grace = setTimeout(() => this.#terminate(escalate), this.#cancelGrace);
        }
      }
    });
    const settle = (): void => {
      removeListener();
      if (grace !== undefined) clearTimeout(grace);
      // The worker has let go of the job (finished, or was terminated): the slot is free.
      if (slot !== undefined) this.#freeSlots.push(slot);
    };
    return this.#piscina
      .run(message, {
        signal: escalate,
        ...(transferList === undefined ? {} : { transferList: transferList as never }),
      })
      .then(
        (outcome: Outcome) => {
          settle();
          if (signal.aborted) throw signal.reason;
          return unwrap(outcome);
        },
        (error: unknown) => {
          settle();
          this.#replaceWorkers();
          throw signal.aborted ? signal.reason : error;
        },
      );
  }

  /**
   * After piscina has removed a worker (terminated on cancellation, or
   * crashed), it only starts new ones up to `minThreads`: with jobs still
   * queued and no worker left, they would wait for ever. A ping job makes it
   * start one (piscina adds a worker when a job arrives to a non-empty queue).
   */
  #replaceWorkers(): void {
    if (this.#closing !== undefined) return;
    const piscina = this.#piscina;
    if (piscina.queueSize > 0 && piscina.threads.length < piscina.maxThreads) {
      const ping: PingMessage = { ping: true };
      piscina.run(ping).catch(noop);
    }
  }

  /**
   * One abort listener per signal, however many jobs share it: a signal given
   * to thousands of jobs would otherwise pay a linear-time
   * `removeEventListener` per job.
   */
  #onAbort(signal: AbortSignal, fn: () => void): () => void {
    let jobs = this.#watched.get(signal);
    if (jobs === undefined) {
      const set = new Set<() => void>();
      jobs = set;
      this.#watched.set(signal, set);
      const remove = onAbort(signal, () => {
        this.#watched.delete(signal);
        for (const job of set) job();
      });
      this.#unwatch.set(set, remove);
    }
    const set = jobs;
    set.add(fn);
    return () => {
      if (!set.delete(fn) || set.size > 0) return;
      this.#watched.delete(signal);
      this.#unwatch.get(set)?.();
    };
  }

  #terminate(escalate: Escalation): void {
    this.#terminated++;
    escalate.abort();
  }
}

/**
 * The abort signal piscina watches for one job, as small as piscina's
 * `AbortSignalEventTarget` allows: an AbortController per job costs more than
 * the rest of the job's bookkeeping.
 */
class Escalation {
  aborted = false;
  #listener: (() => void) | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(): void {
    this.#listener = undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

function unwrap(outcome: Outcome): unknown {
  if ("error" in outcome) throw deserializeError(outcome.error);
  return outcome.value;
}

/** @internal A worker module's `file:` href, from a URL, an href or an absolute path. */
export function toHref(moduleUrl: string | URL): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== "string") {
    throw new TypeError(`Expected the module to be a URL or a path, got ${describe(moduleUrl)}`);
  }
  if (isAbsolute(moduleUrl)) return pathToFileURL(moduleUrl).href;
  try {
    return new URL(moduleUrl).href;
  } catch {
    throw new TypeError(
      `Expected the module to be a URL or an absolute path, got ${describe(moduleUrl)} (resolve it with new URL("./file.js", import.meta.url))`,
    );
  }
}

/** @internal */
export function expectName(name: unknown): string {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Expected the export name to be a non-empty string, got ${describe(name)}`);
  }
  return name;
}

function expectArgs(args: unknown): readonly unknown[] {
  if (!Array.isArray(args)) {
    throw new TypeError(`Expected the arguments to be an array, got ${describe(args)}`);
  }
  return args;
}
