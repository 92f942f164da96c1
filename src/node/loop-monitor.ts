/**
 * `monitorEventLoop()`: reports every time the event loop is blocked longer
 * than a threshold, with the stack of the code that blocked it — captured
 * while it was still blocking — and the aiokit task that was running.
 * @module
 */
import { findSourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { expectFunction, expectNumber, expectSignal } from "../_internal/describe.js";
import {
  CURRENT_TASK_KEY,
  Heartbeat,
  type RawFrame,
  type StackStatus,
  type WatchdogData,
  type WatchdogReport,
} from "./loop-protocol.js";
import { currentTask, type TaskRef } from "./task-tree.js";

/** One frame of a blocking stack. */
export interface StackFrame {
  /** The function's name; empty for anonymous code. */
  readonly function: string;
  /** The script's URL (`file:///…`, `node:fs`); the original source when a source map says so. */
  readonly url: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** What `onBlock` receives: one blocking of the event loop. */
export interface BlockReport {
  /** How long the loop was blocked, in ms (a lower bound, accurate to a few ms). */
  readonly duration: number;
  /** When the block started, in epoch ms (as `Date.now()`), to within a few ms. */
  readonly startedAt: number;
  /** The stack of the blocking code, innermost first; empty unless `stack` is `"captured"`. */
  readonly frames: readonly StackFrame[];
  /**
   * `"captured"`: `frames` is the blocking code's stack. `"ended"`: the block
   * ended before its stack could be read (it was just over the threshold).
   * `"unavailable"`: no inspector, or the block was outside JavaScript.
   */
  readonly stack: StackStatus;
  /** The aiokit task that was running, when task tracking is on and there was one. */
  readonly task?: TaskRef;
  /** The threshold of the monitor that saw it. */
  readonly threshold: number;
}

/** Options of {@link monitorEventLoop}. */
export interface MonitorOptions {
  /** Report blocks longer than this many ms. Default 100 (asyncio's `slow_callback_duration`). */
  readonly threshold?: number;
  /** Called on the main thread after each block ends. Default: print {@link formatBlockReport} to stderr. */
  readonly onBlock?: (report: BlockReport) => void;
  /** Stops the monitor when aborted. */
  readonly signal?: AbortSignal;
}

/** A running monitor: {@link monitorEventLoop}'s result. */
export interface EventLoopMonitor extends Disposable {
  readonly threshold: number;
  /** Number of blocks reported so far. */
  readonly blocks: number;
  /**
   * Resolves once the watchdog thread is watching (it starts in the
   * background: a block before then is not seen). Tests await it.
   */
  readonly ready: Promise<void>;
  /** Stops watching; resolves once the watchdog thread has exited. Idempotent. */
  stop(): Promise<void>;
}

const watchdogFile = new URL("./loop-watchdog.js", import.meta.url);

/**
 * Watches the event loop from a watchdog thread and reports every time it is
 * blocked for longer than `threshold` ms — asyncio's debug mode ("Executing
 * <Task…> took 0.3 seconds"), with the stack of the code that blocked it.
 *
 * How: the main thread stores a heartbeat in shared memory every
 * `threshold / 2` ms (from an unref'd timer); the watchdog sleeps with
 * `Atomics.wait` and checks its age. When it stalls, the watchdog pauses the
 * main thread through
 * `inspector.Session.connectToMainThread()`, reads its call frames and the
 * current aiokit task, and resumes it — so the stack is the blocking code's
 * own, not where some async resource was created. A synchronous native call
 * (`readFileSync`, `execSync`) cannot be interrupted: its stack is read the
 * moment it returns, still inside the blocking function. The report is
 * delivered to `onBlock` once the loop runs again.
 *
 * Costs nothing measurable while nothing blocks (bench/suites/monitor.ts).
 * The monitor never keeps the process alive. `aiokit/node/register` turns it
 * on for any program.
 *
 * Note: while a debugger is paused at a breakpoint the loop is "blocked" too.
 *
 * @example
 * ```ts
 * import { monitorEventLoop, formatBlockReport } from "aiokit/node";
 * const monitor = monitorEventLoop({
 *   threshold: 50,
 *   onBlock: (report) => logger.warn(formatBlockReport(report)),
 * });
 * // … later
 * await monitor.stop();
 * ```
 *
 * @throws TypeError for a bad option.
 */
export function monitorEventLoop(options: MonitorOptions = {}): EventLoopMonitor {
  const threshold = options.threshold ?? 100;
  expectNumber("`threshold`", threshold, { min: 1 });
  const onBlock = options.onBlock ?? printReport;
  expectFunction("`onBlock`", onBlock);
  expectSignal(options.signal);
  // Beats every threshold / 2 (at most 100 ms): a timer wake-up each, the
  // whole cost of the monitor while nothing blocks; durations are exact to
  // within one interval.
  const interval = Math.max(1, Math.min(100, Math.floor(threshold / 2)));
  const heartbeat = new Heartbeat();
  heartbeat.beat();
  exposeCurrentTask(1);
  const { port1: port, port2 } = new MessageChannel();
  const data: WatchdogData = { shared: heartbeat.shared, threshold, interval, port: port2 };
  const worker = new Worker(watchdogFile, {
    workerData: data,
    transferList: [port2],
    execArgv: [],
    stdout: true,
    stderr: false,
  });
  let blocks = 0;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  // Unref'd once watching, except while a block is being reported or someone
  // awaits stop(): the monitor itself never keeps the process alive.
  const release = (): void => {
    if (stopping === undefined) worker.unref();
  };
  const onMessage = (message: WatchdogReport | { ready: true } | { busy: boolean }): void => {
    if ("ready" in message) {
      markReady();
      release();
    } else if ("busy" in message) {
      if (message.busy) worker.ref();
      else release();
    } else {
      release();
      blocks++;
      onBlock(toReport(message, threshold));
    }
  };
  port.on("message", onMessage);
  port.unref(); // after on(): adding a listener refs the port again
  // Messages still queued (the loop is about to end, or has): read them now.
  const drain = (): void => {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      onMessage(m.message as WatchdogReport);
    }
  };
  worker.on("error", (error) => {
    process.emitWarning(`aiokit: the event loop monitor stopped: ${String(error)}`);
  });
  // The worker stays ref'd until it is watching (so awaiting `ready` works),
  // then is unref'd: a process that ends at once waits only for its start.
  const timer = setInterval(() => heartbeat.beat(), interval);
  timer.unref();

  // At exit, let the watchdog disconnect first: Node would otherwise print
  // "Waiting for the debugger to disconnect..." and wait for it.
  // A block that lasted until the exit (`work(); process.exit()`), or whose
  // report was still on its way, is reported here: the loop reads no more
  // messages.
  const onExit = (): void => {
    clearInterval(timer);
    const exitAt = Date.now();
    heartbeat.stop(exitAt);
    // While a block may be being captured, give the watchdog time to finish it.
    heartbeat.waitReleased(exitAt - heartbeat.time >= threshold ? 1_000 : 500);
    drain();
  };
  process.on("exit", onExit);
  let stopping: Promise<void> | undefined;
  const removeAbort =
    options.signal === undefined ? undefined : listen(options.signal, () => void stop());
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      removeAbort?.();
      process.off("exit", onExit);
      clearInterval(timer);
      heartbeat.stop();
      exposeCurrentTask(-1);
      // Someone awaits the exit: keep the loop alive until it happens.
      worker.ref();
      const force = setTimeout(() => void worker.terminate(), 2_000);
      force.unref();
      await exited;
      clearTimeout(force);
      drain();
      markReady();
    })();
    return stopping;
  };
  if (options.signal?.aborted) void stop();

  return {
    threshold,
    get blocks() {
      return blocks;
    },
    ready,
    stop,
    [Symbol.dispose]() {
      void stop();
    },
  };
}

function listen(signal: AbortSignal, fn: () => void): () => void {
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

let exposed = 0;
/** While a monitor runs, lets the paused main thread tell the watchdog the current task. */
function exposeCurrentTask(delta: 1 | -1): void {
  exposed += delta;
  const registry = globalThis as { [key: symbol]: unknown };
  const key = Symbol.for(CURRENT_TASK_KEY);
  if (exposed > 0) registry[key] = currentTask;
  else delete registry[key];
}

function toReport(message: WatchdogReport, threshold: number): BlockReport {
  const task = asTaskRef(message.task);
  return {
    duration: Math.round(message.duration),
    startedAt: message.startedAt,
    frames: message.frames.map(mapFrame),
    stack: message.stack,
    ...(task === undefined ? {} : { task }),
    threshold,
  };
}

function asTaskRef(value: unknown): TaskRef | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { id, name, path } = value as Partial<TaskRef>;
  if (typeof id !== "number" || typeof name !== "string" || !Array.isArray(path)) return undefined;
  return { id, name, path };
}

/** Maps a frame to the original source when Node has a source map for it (--enable-source-maps). */
function mapFrame(frame: RawFrame): StackFrame {
  if (!frame.url.startsWith("file:")) return frame;
  try {
    const map = findSourceMap(fileURLToPath(frame.url));
    const entry = map?.findEntry(frame.line - 1, frame.column - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (entry?.originalSource === undefined || entry.originalLine === undefined) return frame;
    return {
      function: frame.function,
      url: entry.originalSource,
      line: entry.originalLine + 1,
      column: (entry.originalColumn ?? 0) + 1,
    };
  } catch {
    return frame;
  }
}

function printReport(report: BlockReport): void {
  process.stderr.write(`${formatBlockReport(report)}\n`);
}

/**
 * Formats a {@link BlockReport} for people, like a stack trace:
 *
 * ```text
 * aiokit: the event loop was blocked for 312 ms (threshold 100 ms) in task main > crawler > parse (#7)
 *     at parseAll (file:///app/parse.js:41:11)
 *     at file:///app/main.js:12:3
 * ```
 *
 * @example
 * ```ts
 * import { formatBlockReport, monitorEventLoop } from "aiokit/node";
 * monitorEventLoop({ onBlock: (report) => console.warn(formatBlockReport(report)) });
 * ```
 */
export function formatBlockReport(report: BlockReport, options: { frames?: number } = {}): string {
  const task =
    report.task === undefined
      ? ""
      : ` in task ${report.task.path.join(" > ")} (#${report.task.id})`;
  const lines = [
    `aiokit: the event loop was blocked for ${report.duration} ms (threshold ${report.threshold} ms)${task}`,
  ];
  if (report.stack === "captured") {
    for (const frame of report.frames.slice(0, options.frames ?? 12)) {
      const where = `${frame.url}:${frame.line}:${frame.column}`;
      lines.push(frame.function === "" ? `    at ${where}` : `    at ${frame.function} (${where})`);
    }
  } else if (report.stack === "ended") {
    lines.push("    (the block ended before its stack could be read)");
  } else {
    lines.push("    (no stack: the inspector is unavailable or the block was outside JavaScript)");
  }
  return lines.join("\n");
}
