/**
 * aiokit's debug mode: blocking detection, task tracking, the leak report at
 * exit and the task tree served to `aiokit ps` — what `aiokit/node/register`
 * turns on, configured by environment variables.
 * @module
 */
import { appendFileSync, writeSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { expectNumber } from "../_internal/describe.js";
import { formatLeakReport, leakReport } from "./leak-report.js";
import { type BlockReport, formatBlockReport, monitorEventLoop } from "./loop-monitor.js";
import { enableTaskTracking } from "./task-tree.js";
import { serveTaskTree } from "./task-tree-socket.js";

/**
 * The `file:` URL of `aiokit/node/register`, for starting another program in
 * debug mode wherever it lives: `node --import <registerUrl> app.js` (what
 * `aiokit doctor` does).
 *
 * @example
 * ```ts
 * import { spawn } from "node:child_process";
 * import { registerUrl } from "aiokit/node";
 * spawn(process.execPath, ["--import", registerUrl, "app.js"], {
 *   env: { ...process.env, AIOKIT_REPORT: "/tmp/report.jsonl" },
 *   stdio: "inherit",
 * });
 * ```
 */
export const registerUrl: string = new URL("./register.js", import.meta.url).href;

/** Options of {@link enableDebugMode}; each defaults to on. */
export interface DebugModeOptions {
  /** Report event-loop blocks longer than this many ms; `false` turns blocking detection off. Default 100. */
  readonly blockThreshold?: number | false;
  /** Track tasks (the task tree, `currentTask()`, task names in block reports). Default true. */
  readonly trackTasks?: boolean;
  /** Capture where each task was spawned (for the tree and the leak report). Default true. */
  readonly captureStacks?: boolean;
  /** Print the leak report at exit. Default true. */
  readonly leakReport?: boolean;
  /** Serve the task tree to `aiokit ps` (see `serveTaskTree`). Default true. */
  readonly serveTaskTree?: boolean;
  /** Also append every report as a JSON line to this file (see `readDebugReport`). */
  readonly reportFile?: string | undefined;
  /** Print reports to stderr. Default true. */
  readonly print?: boolean;
}

// On globalThis under a registered symbol: register may have loaded another
// copy of aiokit than the program's (registerUrl points at one install).
const READY = Symbol.for("aiokit.debugModeReady");
const registry = globalThis as { [READY]?: Promise<void> };

/**
 * Resolves once debug mode's blocking detection is watching (its watchdog
 * thread starts in the background, so a block in the first moments of a
 * program may go unseen); at once when it is off.
 *
 * @example
 * ```ts
 * // node --import aiokit/node/register app.js
 * import { debugModeReady } from "aiokit/node";
 * await debugModeReady();
 * runStartupWork(); // a block here is reported
 * ```
 */
export function debugModeReady(): Promise<void> {
  return registry[READY] ?? Promise.resolve();
}

/** One line of an `AIOKIT_REPORT` file. */
export type DebugRecord =
  | ({ readonly type: "block"; readonly pid: number } & BlockReport)
  | ({ readonly type: "leaks"; readonly pid: number } & ReturnType<typeof leakReport>);

/**
 * Turns on aiokit's debug mode in this process, as `aiokit/node/register`
 * does from the environment: blocking detection (reports on stderr), task
 * tracking with spawn sites, the leak report at exit, and the task tree
 * served to `aiokit ps`. Returns a function that turns it all off again.
 * Does nothing in worker threads (they are meant to block).
 *
 * @example
 * ```ts
 * import { enableDebugMode } from "aiokit/node";
 * if (process.env.NODE_ENV !== "production") enableDebugMode({ blockThreshold: 50 });
 * ```
 *
 * @throws TypeError for a bad `blockThreshold`.
 */
export function enableDebugMode(options: DebugModeOptions = {}): () => void {
  const threshold = options.blockThreshold ?? 100;
  if (threshold !== false) expectNumber("`blockThreshold`", threshold, { min: 1 });
  if (!isMainThread) return () => {};
  const print = options.print !== false;
  const file = options.reportFile;
  const record = (value: DebugRecord): void => {
    if (file === undefined) return;
    try {
      appendFileSync(file, `${JSON.stringify(value)}\n`);
    } catch (error) {
      stderr(`aiokit: cannot write the report to ${file}: ${String(error)}`);
    }
  };
  const undo: (() => void)[] = [];
  if (options.trackTasks !== false) {
    undo.push(enableTaskTracking({ captureStacks: options.captureStacks !== false }));
    if (options.serveTaskTree !== false) {
      try {
        const server = serveTaskTree();
        undo.push(() => server.close());
      } catch (error) {
        stderr(`aiokit: ${(error as Error).message}`);
      }
    }
    if (options.leakReport !== false) {
      const onExit = (): void => {
        const report = leakReport();
        if (report.pending.length === 0 && report.unobservedFailures.length === 0) return;
        if (print) stderr(formatLeakReport(report));
        record({ type: "leaks", pid: process.pid, ...report });
      };
      process.on("exit", onExit);
      undo.push(() => process.off("exit", onExit));
    }
  }
  if (threshold !== false) {
    const monitor = monitorEventLoop({
      threshold,
      onBlock(report) {
        if (print) stderr(formatBlockReport(report));
        record({ type: "block", pid: process.pid, ...report });
      },
    });
    registry[READY] = monitor.ready;
    undo.push(() => void monitor.stop());
  }
  let on = true;
  return () => {
    if (!on) return;
    on = false;
    for (const fn of undo.reverse()) fn();
  };
}

/**
 * Reads debug-mode options from environment variables — the ones
 * `aiokit/node/register` understands:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `AIOKIT_DEBUG` | `1`/`all` (default): everything; `0`/`off`: nothing; or a list of `block`, `tasks`, `leaks`, `ps` |
 * | `AIOKIT_BLOCK_THRESHOLD` | report blocks longer than this many ms (default 100) |
 * | `AIOKIT_TASK_STACKS` | `0` to skip capturing where tasks were spawned (saves a few µs per task) |
 * | `AIOKIT_REPORT` | also append each report to this file as a JSON line |
 *
 * Bad values are reported on stderr and replaced by the default.
 *
 * @example
 * ```ts
 * import { debugOptionsFromEnv, enableDebugMode } from "aiokit/node";
 * enableDebugMode(debugOptionsFromEnv(process.env));
 * ```
 */
export function debugOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): DebugModeOptions | undefined {
  const debug = (env.AIOKIT_DEBUG ?? "all").trim().toLowerCase();
  if (["0", "off", "false", "no", "none"].includes(debug)) return undefined;
  const all = ["", "1", "on", "true", "yes", "all"].includes(debug);
  const parts = new Set(all ? ["block", "tasks", "leaks", "ps"] : debug.split(/[\s,]+/));
  for (const part of parts) {
    if (!["block", "tasks", "leaks", "ps"].includes(part)) {
      stderr(
        `aiokit: ignoring ${JSON.stringify(part)} in AIOKIT_DEBUG (expected block, tasks, leaks, ps, all or off)`,
      );
    }
  }
  let threshold = 100;
  const rawThreshold = env.AIOKIT_BLOCK_THRESHOLD;
  if (rawThreshold !== undefined && rawThreshold.trim() !== "") {
    const parsed = Number(rawThreshold);
    if (Number.isFinite(parsed) && parsed >= 1) threshold = parsed;
    else {
      stderr(
        `aiokit: ignoring AIOKIT_BLOCK_THRESHOLD=${JSON.stringify(rawThreshold)}: expected a number of milliseconds from 1 up; using 100`,
      );
    }
  }
  const trackTasks = parts.has("tasks") || parts.has("leaks") || parts.has("ps");
  const report = env.AIOKIT_REPORT;
  return {
    blockThreshold: parts.has("block") ? threshold : false,
    trackTasks,
    captureStacks: !["0", "off", "false", "no"].includes((env.AIOKIT_TASK_STACKS ?? "").trim()),
    leakReport: parts.has("leaks"),
    serveTaskTree: parts.has("ps"),
    ...(report === undefined || report === "" ? {} : { reportFile: report }),
  };
}

function stderr(text: string): void {
  try {
    writeSync(2, `${text}\n`);
  } catch {
    // stderr is closed
  }
}
