/**
 * @internal The module piscina runs in every worker of a {@link WorkerPool}:
 * loads the job's module (TypeScript too), gives the job its cooperative
 * signal, calls the export, and sends back its result or error.
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { move, transferableSymbol, valueSymbol, workerData } from "piscina";
import { CancelledError } from "../errors.js";
import { jobSlot } from "./job-signal.js";
import { TRANSFER, type Transfer } from "./transfer.js";
import {
  type JobMessage,
  JobState,
  type PingMessage,
  type PoolWorkerData,
  serializeError,
} from "./worker-protocol.js";

type Exported = (...args: readonly unknown[]) => unknown;

const loaded = new Map<string, Promise<Record<string, unknown>>>();
let states: Int32Array | undefined;
function poolStates(): Int32Array {
  states ??= new Int32Array((workerData as PoolWorkerData).states);
  return states;
}

/** Exports already loaded, by `name module`: the synchronous fast path. */
const functions = new Map<string, Exported>();
const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")?.get;
const neverAborted = new AbortController().signal;
// ES2024's Atomics.waitAsync (Node 16+), missing from the ES2023 lib we compile against.
const { waitAsync } = Atomics as unknown as {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
};

/**
 * Runs one job. Errors come back as values (see serializeError), so the
 * caller gets them whole. Synchronous when the module is loaded and the
 * export returns a plain value: no extra turns for small jobs.
 */
export default function runJob(job: JobMessage | PingMessage): unknown {
  if ("ping" in job) return undefined;
  let finish: (() => void) | undefined;
  let sync = true;
  try {
    let signal = neverAborted;
    if (job.slot !== undefined || job.state !== undefined) {
      const [states, index] =
        job.slot === undefined
          ? [new Int32Array(job.state as SharedArrayBuffer), 0]
          : [poolStates(), job.slot];
      if (
        Atomics.compareExchange(states, index, JobState.queued, JobState.running) !==
        JobState.queued
      ) {
        throw new CancelledError("The job was cancelled before it started");
      }
      ({ signal, finish } = cooperativeSignal(states, index));
    }
    const fn = functions.get(`${job.name} ${job.module}`);
    if (fn === undefined) {
      sync = false;
      const loadedSignal = signal;
      return settle(
        exported(job.module, job.name).then((loadedFn) => call(loadedFn, job, loadedSignal)),
        finish,
      );
    }
    const result = call(fn, job, signal);
    if (isPromiseLike(result)) {
      sync = false;
      return settle(result, finish);
    }
    return wrap(result);
  } catch (error) {
    return { error: serializeError(error) };
  } finally {
    if (sync) finish?.();
  }
}

/** Calls the export with the job's signal in the slot while it runs. */
function call(fn: Exported, job: JobMessage, signal: AbortSignal): unknown {
  jobSlot.current = { signal };
  let result: unknown;
  try {
    result = fn(...job.args);
  } catch (error) {
    jobSlot.current = undefined;
    throw error;
  }
  if (!isPromiseLike(result)) jobSlot.current = undefined;
  return result;
}

function settle(result: unknown, finish: (() => void) | undefined): Promise<unknown> {
  return Promise.resolve(result).then(
    (value) => {
      jobSlot.current = undefined;
      finish?.();
      return wrap(value);
    },
    (error: unknown) => {
      jobSlot.current = undefined;
      finish?.();
      return { error: serializeError(error) };
    },
  );
}

function wrap(result: unknown): unknown {
  if (isTransfer(result)) {
    // piscina moves a result that implements its Transferable protocol and is marked by move().
    return move({
      [transferableSymbol]: [...result[TRANSFER]],
      [valueSymbol]: { value: result.value },
    } as never);
  }
  return { value: result };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function isTransfer(value: unknown): value is Transfer<unknown> {
  return typeof value === "object" && value !== null && TRANSFER in value;
}

/**
 * A signal that aborts when the caller sets the job's state to cancelled:
 * at once when read (`aborted`, `throwIfAborted()` check the shared state, so
 * a synchronous loop sees it), and through `Atomics.waitAsync` when the job
 * awaits something.
 */
function cooperativeSignal(
  states: Int32Array,
  index: number,
): { signal: AbortSignal; finish: () => void } {
  const controller = new AbortController();
  const signal = controller.signal;
  let finished = false;
  const check = (): void => {
    // Once finished, the slot may already belong to another job.
    if (finished || abortedGetter?.call(signal)) return;
    if (Atomics.load(states, index) === JobState.cancelled) {
      controller.abort(new CancelledError("The job was cancelled"));
    }
  };
  Object.defineProperty(signal, "aborted", {
    configurable: true,
    get() {
      check();
      return abortedGetter?.call(signal) as boolean;
    },
  });
  Object.defineProperty(signal, "throwIfAborted", {
    configurable: true,
    value() {
      check();
      AbortSignal.prototype.throwIfAborted.call(signal);
    },
  });
  const waiting = waitAsync(states, index, JobState.running);
  if (waiting.async) void waiting.value.then(check);
  else check();
  return {
    signal,
    finish() {
      // Wakes the waitAsync above (it must not outlive the job).
      finished = true;
      if (
        Atomics.compareExchange(states, index, JobState.running, JobState.done) === JobState.running
      ) {
        Atomics.notify(states, index);
      }
    },
  };
}

async function exported(module: string, name: string): Promise<Exported> {
  let namespace = loaded.get(module);
  if (namespace === undefined) {
    namespace = load(module);
    loaded.set(module, namespace);
    namespace.catch(() => loaded.delete(module));
  }
  const ns = await namespace;
  const value = ns[name] ?? (ns.default as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== "function") {
    const got = value === undefined ? "it has no such export" : `it is a ${typeof value}`;
    throw new TypeError(`Cannot run ${JSON.stringify(name)} from ${module}: ${got}`);
  }
  functions.set(`${name} ${module}`, value as Exported);
  return value as Exported;
}

const TS_EXTENSION = /\.[cm]?tsx?$/;

async function load(module: string): Promise<Record<string, unknown>> {
  try {
    return (await import(module)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw error;
    if (!TS_EXTENSION.test(new URL(module).pathname)) throw error;
    await enableTypeScript(module);
    // The failed import stays in Node's module map: ask again under another URL.
    const retry = new URL(module);
    retry.searchParams.set("aiokit-ts", "");
    return (await import(retry.href)) as Record<string, unknown>;
  }
}

let typeScript: Promise<void> | undefined;

/** The URL of one of tsx's APIs (import condition) as seen from `base`, if tsx is installed there. */
function tsxApi(base: string, subpath: "./esm/api" | "./cjs/api"): string | undefined {
  try {
    const manifest = createRequire(base).resolve("tsx/package.json");
    const { exports } = JSON.parse(readFileSync(manifest, "utf8")) as {
      exports?: Record<string, { import?: string | { default?: string } } | undefined>;
    };
    const entry = exports?.[subpath]?.import;
    const file = typeof entry === "string" ? entry : entry?.default;
    return file === undefined ? undefined : new URL(file, pathToFileURL(manifest)).href;
  } catch {
    return undefined;
  }
}

/**
 * Node 20 cannot import .ts files by itself: register tsx's loader in this
 * worker, found from the worker module, from aiokit, or from the current
 * directory (the project's devDependency).
 */
function enableTypeScript(module: string): Promise<void> {
  typeScript ??= (async () => {
    for (const base of [module, import.meta.url, pathToFileURL(`${process.cwd()}/`).href]) {
      // Both loaders: a .ts file outside a "type": "module" package loads as CommonJS.
      const esm = tsxApi(base, "./esm/api");
      const cjs = tsxApi(base, "./cjs/api");
      if (esm === undefined || cjs === undefined) continue;
      for (const api of [esm, cjs]) {
        ((await import(api)) as { register: () => unknown }).register();
      }
      return;
    }
    throw new Error(
      `Cannot load the TypeScript worker module ${module}: Node ${process.version} cannot run .ts files by itself and tsx was not found (npm install --save-dev tsx, or use Node 22.6+ with --experimental-strip-types)`,
    );
  })();
  typeScript.catch(() => {
    typeScript = undefined;
  });
  return typeScript;
}
