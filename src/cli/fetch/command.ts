/** `aiokit fetch`: wires the engine to the terminal, the signals and the summary. */
import { ReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { CancelledError } from "../../index.js";
import { exitCodeOf, type StopSignal } from "../stop-signals.js";
import { styleFor } from "../style.js";
import { ExitCode } from "../usage.js";
import { Fetcher, type FetchStats, openInput } from "./fetcher.js";
import type { FetchOptions } from "./options.js";
import { PreflightError, preflight } from "./preflight.js";
import { formatDuration, type ProgressCounts, ProgressLine } from "./progress.js";

export async function fetchCommand(options: FetchOptions): Promise<number> {
  const stderr = process.stderr;
  const style = styleFor(stderr);
  const drain = new AbortController();
  const abort = new AbortController();
  let interrupts = 0;
  let stoppedBy: StopSignal | undefined; // the first stop signal decides the exit code: 130 or 143
  const onSignal = (signal: StopSignal): void => {
    interrupts++;
    stoppedBy ??= signal;
    if (interrupts === 1) {
      drain.abort(new CancelledError("Interrupted"));
      if (!options.quiet) {
        stderr.write(
          `\n${style.yellow("Stopping:")} finishing the requests in flight (Ctrl-C again to abort them)\n`,
        );
      }
    } else {
      abort.abort(new CancelledError("Interrupted twice"));
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let fetcher: Pick<Fetcher, "stats" | "run">;
  try {
    await preflight(options);
    fetcher = await fetcherFor(options);
  } catch (error) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!(error instanceof PreflightError)) throw error;
    // Nothing ran: the error alone, no summary of zero requests.
    stderr.write(`${style.red("aiokit fetch:")} ${error.message}\n`);
    return ExitCode.usage;
  }

  const input = openInput(options.input);
  const size = sizeOf(options.input);
  const showProgress =
    options.progress === "always" || (options.progress === "auto" && stderr.isTTY === true);
  const progress = showProgress
    ? new ProgressLine(
        stderr,
        style,
        () => progressOf(fetcher.stats, input, size),
        options.progress === "always",
      )
    : undefined;
  const started = performance.now();
  let failure: unknown;
  try {
    await fetcher.run({
      input,
      drain: drain.signal,
      abort: abort.signal,
      onRepair: (bytes, records) => {
        if (!options.quiet) {
          stderr.write(
            `Resume: cut a partial last line (${bytes} bytes) after ${records} complete records\n`,
          );
        }
      },
    });
  } catch (error) {
    failure = error;
  } finally {
    input.destroy(); // a run ended by Ctrl-C leaves stdin open, which would keep the process alive
    progress?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (!options.quiet)
    stderr.write(`${formatSummary(fetcher.stats, performance.now() - started)}\n`);
  if (failure !== undefined) {
    stderr.write(
      `${style.red("aiokit fetch failed:")} ${failure instanceof Error ? failure.message : String(failure)}\n`,
    );
    // A run a signal stopped exits with its code, even when it also failed (e.g. an output FIFO nobody opened).
    return stoppedBy === undefined ? ExitCode.failed : exitCodeOf(stoppedBy);
  }
  if (stoppedBy !== undefined) return exitCodeOf(stoppedBy);
  return fetcher.stats.failed > 0 ? ExitCode.failed : ExitCode.ok;
}

/** The local engine, or with --queue the one whose requests `aiokit worker`s make (loaded only then: it needs bullmq). */
async function fetcherFor(options: FetchOptions): Promise<Pick<Fetcher, "stats" | "run">> {
  if (options.queue === undefined) return new Fetcher(options);
  const { checkRedis } = await import("../queue/redis-check.js");
  await checkRedis(options.queue);
  const { QueueFetcher } = await import("./queue-fetcher.js").catch((error: unknown) => {
    throw new PreflightError((error as Error).message);
  });
  return new QueueFetcher(options, options.queue);
}

/**
 * The progress counts. A file's total is estimated from how far into it the
 * reading is (lines read per byte read, times its size): exact once it is
 * read to the end. Stdin has no total.
 */
function progressOf(stats: FetchStats, input: Readable, size: number | undefined): ProgressCounts {
  let total: number | undefined;
  if (size !== undefined && input instanceof ReadStream && input.bytesRead > 0) {
    total = Math.round((stats.linesRead * size) / input.bytesRead);
  }
  return {
    done: stats.ok + stats.skipped,
    failed: stats.failed,
    inFlight: stats.inFlight,
    skipped: stats.skipped,
    total,
  };
}

/** The input file's size, when it is a file (undefined for stdin, or when it can't be read: the run says why). */
function sizeOf(path: string): number | undefined {
  if (path === "-") return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

export function formatSummary(stats: FetchStats, elapsedMs: number): string {
  const total = stats.ok + stats.failed;
  const rate = elapsedMs > 0 ? (total * 1000) / elapsedMs : 0;
  const statuses = [...stats.byStatus.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${n}`)
    .join(", ");
  const l = stats.latency;
  const lines = [
    `${total} requests in ${formatDuration(elapsedMs)} (${rate.toFixed(1)}/s): ${stats.ok} answered, ${stats.failed} failed` +
      (stats.skipped > 0 ? `, ${stats.skipped} skipped (already done)` : ""),
  ];
  if (statuses !== "") lines.push(`by status: ${statuses}`);
  if (l.count > 0) {
    lines.push(
      `latency ms: p50 ${l.percentile(50).toFixed(1)}, p95 ${l.percentile(95).toFixed(1)}, p99 ${l.percentile(99).toFixed(1)}, max ${l.max.toFixed(1)}`,
    );
  }
  return lines.join("\n");
}
