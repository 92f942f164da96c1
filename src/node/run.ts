/**
 * `run(main)`: Python's `asyncio.run` for Node — signals, a graceful
 * shutdown with a deadline, clear reports of what went wrong, an exit code.
 * @module
 */
import { writeSync } from "node:fs";
import { constants } from "node:os";
import { inspect } from "node:util";
import { expectFunction, expectNumber } from "../_internal/describe.js";
import { CancelledError, isCancellation } from "../errors.js";
import { enableTaskTracking, formatTaskTree, isTaskTracking } from "./task-tree.js";

/** Options of {@link run}. */
export interface RunOptions {
  /**
   * Milliseconds `main` gets to finish after the first shutdown signal (or an
   * uncaught error) before the process is forced to exit. Default 10 000;
   * `Infinity` waits for ever (a second Ctrl+C still forces the exit).
   */
  readonly shutdownTimeout?: number;
  /** Signals that start a graceful shutdown. Default `["SIGINT", "SIGTERM"]`. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Track tasks while `main` runs, so a forced exit can name the tasks still
   * running (see `enableTaskTracking`). Default true.
   */
  readonly trackTasks?: boolean;
}

/** The signature of `main` for {@link run}. */
export type Main = (signal: AbortSignal) => unknown;

let active = false;

/** `main`'s exit code: its number, else the shutdown's code, else 0; 1 when it fails. */
async function settle(
  main: Main,
  signal: AbortSignal,
  shutdownCode: () => number | undefined,
  report: (text: string) => void,
): Promise<number> {
  try {
    const value = await main(signal);
    const code = shutdownCode();
    if (typeof value === "number" && code === undefined) return value;
    return code ?? 0;
  } catch (error) {
    if (signal.aborted && (error === signal.reason || isCancellation(error))) {
      return shutdownCode() ?? 1;
    }
    report(`aiokit: main failed:\n${inspect(error)}`);
    return 1;
  }
}

/** Sets `process.exitCode` to `code` unless something already set one; returns `code`. */
function keepExitCode(code: number): number {
  if (process.exitCode === undefined) process.exitCode = code;
  return code;
}

/**
 * Runs `main(signal)` as a program's entry point and resolves with its exit
 * code: Python's `asyncio.run`, with the shutdown a server needs.
 *
 * - SIGINT or SIGTERM aborts `signal` (with a {@link CancelledError}): tasks
 *   see a cancellation and clean up. Once `main` settles, `run` resolves with
 *   128 + the signal number (130 after Ctrl+C, 143 after SIGTERM), as shells
 *   expect.
 * - A second SIGINT, or `shutdownTimeout` ms without `main` finishing, forces
 *   the exit at once, printing the tasks still running (their tree).
 * - An uncaught exception or unhandled rejection anywhere is reported on
 *   stderr with its stack and aborts `signal`; the exit code is 1.
 * - `main` throwing is reported likewise (exit code 1); `main` returning a
 *   number makes that the exit code; anything else is 0.
 *
 * Every listener `run` adds to `process` is removed when it resolves.
 *
 * `run` also sets `process.exitCode` to that code, unless something already
 * set one (the caller's choice wins), so a bare `await run(main)` exits with
 * the right status: a crash or a Ctrl+C is never a success to a shell or CI.
 * `process.exitCode = await run(main)` works the same. `run` does not call
 * `process.exit()` except to force an exit, so pending output is flushed.
 *
 * @example
 * ```ts
 * import { run } from "aiokit/node";
 * import { taskGroup, sleep } from "aiokit";
 *
 * process.exitCode = await run(async (signal) => {
 *   await taskGroup(async (tg) => {
 *     tg.spawn((s) => serve(s), { name: "http" });
 *     tg.spawn(async (s) => { while (true) await sleep(60_000, { signal: s }); }, { name: "cron" });
 *   }, { signal });
 * });
 * ```
 *
 * @throws TypeError (as a rejection) for a bad `main` or options; Error when another `run` is active.
 */
export async function run(main: Main, options: RunOptions = {}): Promise<number> {
  expectFunction("`main`", main);
  const shutdownTimeout = options.shutdownTimeout ?? 10_000;
  expectNumber("`shutdownTimeout`", shutdownTimeout, { allowInfinity: true });
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  if (active) throw new Error("Cannot start run(): another run() is still active in this process");
  active = true;

  const controller = new AbortController();
  let exitCode: number | undefined;
  let firstSignal: NodeJS.Signals | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const stopTracking = options.trackTasks === false ? undefined : enableTaskTracking();

  const report = (text: string): void => {
    try {
      writeSync(2, `${text}\n`);
    } catch {
      // stderr is closed: nothing more we can do.
    }
  };

  const forceExit = (why: string): void => {
    const tree = isTaskTracking()
      ? formatTaskTree()
      : "(task tracking is off: run it with trackTasks or aiokit/node/register)";
    report(`aiokit: ${why}; exiting with these tasks still running:\n${tree}`);
    process.exit(exitCode ?? 1);
  };

  const startShutdown = (why: string, code: number, reason: unknown): void => {
    exitCode ??= code;
    if (controller.signal.aborted) return;
    controller.abort(reason);
    if (shutdownTimeout !== Number.POSITIVE_INFINITY) {
      deadline = setTimeout(
        () => forceExit(`main did not finish within ${shutdownTimeout} ms of ${why}`),
        shutdownTimeout,
      );
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignal !== undefined) {
      forceExit(`received ${signal} again`);
      return;
    }
    firstSignal = signal;
    const hint = signal === "SIGINT" ? " (press Ctrl+C again to exit at once)" : "";
    report(`aiokit: received ${signal}, cancelling${hint}`);
    const number = constants.signals[signal] ?? 0;
    startShutdown(signal, 128 + number, new CancelledError(`Received ${signal}`));
  };

  const onError = (kind: string) => (error: unknown) => {
    report(`aiokit: ${kind}, cancelling main:\n${inspect(error)}`);
    startShutdown(
      `the ${kind}`,
      1,
      new CancelledError(`Cancelled because of an ${kind}`, { cause: error }),
    );
  };
  const onUncaught = onError("uncaught exception");
  const onUnhandled = onError("unhandled rejection");

  for (const signal of signals) process.on(signal, onSignal);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUnhandled);
  try {
    return keepExitCode(await settle(main, controller.signal, () => exitCode, report));
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUnhandled);
    if (deadline !== undefined) clearTimeout(deadline);
    stopTracking?.();
    active = false;
  }
}
