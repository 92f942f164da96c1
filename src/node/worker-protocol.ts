/**
 * @internal The messages between a {@link WorkerPool} and its workers
 * (through piscina), and the job states both sides update in shared memory.
 * @module
 */

/**
 * An empty job that only makes piscina start a worker (see
 * WorkerPool's #replaceWorkers): the worker answers it at once.
 */
export interface PingMessage {
  readonly ping: true;
}

/** A job as the worker receives it. */
export interface JobMessage {
  /** The module's URL (`file:` href). */
  readonly module: string;
  /** The export to call. */
  readonly name: string;
  readonly args: readonly unknown[];
  /**
   * When the call has a signal: the index of the job's {@link JobState} in
   * the pool's shared states (sent once to each worker as its workerData)…
   */
  readonly slot?: number;
  /** …or, when every slot is taken, a buffer of its own (one Int32). */
  readonly state?: SharedArrayBuffer;
}

/** What each worker gets as piscina's `workerData`. */
export interface PoolWorkerData {
  /** Int32 job states, indexed by {@link JobMessage.slot}. */
  readonly states: SharedArrayBuffer;
}

/** Number of job states a pool shares with its workers. */
export const STATE_SLOTS = 4096;

/** Where a cancellable job is; moved with compare-and-swap by both threads. */
export const JobState = {
  /** In the pool's queue. */
  queued: 0,
  /** A worker started it. */
  running: 1,
  /** The caller cancelled it (before or while it ran). */
  cancelled: 2,
  /** The worker has finished it. */
  done: 3,
} as const;

/** Marks an error thrown by a job, serialized field by field (structured clone drops most of them). */
export const ERROR_MARK = "__aiokitWorkerError";

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  readonly [ERROR_MARK]: true;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly props: Record<string, unknown>;
  readonly cause?: SerializedError | { readonly value: unknown };
}

/** Turns anything thrown into something structured clone keeps whole. */
export function serializeError(
  error: unknown,
  depth = 0,
): SerializedError | { readonly value: unknown } {
  if (!(error instanceof Error) && !(error instanceof DOMException))
    return { value: cloneable(error) };
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === "cause") continue;
    props[key] = cloneable((error as unknown as Record<string, unknown>)[key]);
  }
  const cause = (error as { cause?: unknown }).cause;
  return {
    [ERROR_MARK]: true,
    name: error.name,
    message: error.message,
    stack: error.stack,
    props,
    ...(cause === undefined || depth > 8 ? {} : { cause: serializeError(cause, depth + 1) }),
  };
}

function cloneable(value: unknown): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return String(value);
  }
}

const builtins: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds an error on the caller's side: same class for the built-ins, same name, message, stack and fields. */
export function deserializeError(error: SerializedError | { readonly value: unknown }): unknown {
  if (!(ERROR_MARK in error)) return error.value;
  let result: Error;
  if (error.name === "AbortError" || error.name === "TimeoutError") {
    result = new DOMException(error.message, error.name) as unknown as Error;
  } else {
    const Class = builtins[error.name] ?? Error;
    result = new Class(error.message);
    if (result.name !== error.name) {
      Object.defineProperty(result, "name", {
        value: error.name,
        configurable: true,
        writable: true,
      });
    }
  }
  Object.defineProperty(result, "stack", {
    value: error.stack,
    configurable: true,
    writable: true,
  });
  for (const [key, value] of Object.entries(error.props)) {
    Object.defineProperty(result, key, {
      value,
      configurable: true,
      writable: true,
      enumerable: true,
    });
  }
  if (error.cause !== undefined) {
    Object.defineProperty(result, "cause", {
      value: deserializeError(error.cause),
      configurable: true,
      writable: true,
    });
  }
  return result;
}

/** True for a job's serialized error. */
export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === "object" && value !== null && ERROR_MARK in value;
}
