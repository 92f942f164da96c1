/** `aiokit runs` and `aiokit cancel`: the fetch runs on a Redis, and stopping one everywhere. */
import { cancelRun, listRuns, type RunInfo } from "../../bullmq/index.js";
import { FETCH_QUEUE } from "../fetch/fetch-task.js";
import { checkQueueUrl } from "../fetch/options.js";
import { PreflightError } from "../fetch/preflight.js";
import { formatDuration } from "../fetch/progress.js";
import { styleFor } from "../style.js";
import { ExitCode, parseCommandLine, UsageError } from "../usage.js";
import { checkRedis } from "./redis-check.js";

/** Reaches Redis first: an unreachable one is an error now, not after ~4 s of reconnecting. */
async function reach(command: string, url: string): Promise<boolean> {
  try {
    await checkRedis(url);
    return true;
  } catch (error) {
    if (!(error instanceof PreflightError)) throw error;
    process.stderr.write(
      `${styleFor(process.stderr).red(`aiokit ${command}:`)} ${error.message}\n`,
    );
    return false;
  }
}

export async function runsCommand(argv: readonly string[]): Promise<number | "help"> {
  const { values, positionals } = parseCommandLine("runs", {
    args: argv,
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one REDIS_URL, got ${positionals.length} arguments`, "runs");
  }
  const url = positionals[0] as string;
  checkQueueUrl(url, "runs");
  if (!(await reach("runs", url))) return ExitCode.usage;
  const runs = await listRuns(FETCH_QUEUE, { connection: url });
  if (values.json === true) {
    for (const run of runs) console.log(JSON.stringify(run));
  } else console.log(formatRuns(runs, Date.now()));
  return ExitCode.ok;
}

export function formatRuns(runs: readonly RunInfo[], now: number): string {
  if (runs.length === 0) return "No fetch runs.";
  const rows = [["RUN", "PROGRESS", "WORKERS", "AGE", "OUTPUT"]];
  for (const run of runs) {
    rows.push([
      run.id,
      `${run.done}/${run.enqueued}`,
      String(run.workers),
      formatDuration(now - run.started),
      (run.label === "" ? "(stdout)" : run.label) + (run.producer ? "" : " (no producer)"),
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) =>
    Math.max(...rows.map((r) => (r[i] as string).length)),
  );
  return rows
    .map((r) =>
      r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number))).join("  "),
    )
    .join("\n");
}

export async function cancelCommand(argv: readonly string[]): Promise<number | "help"> {
  const { values, positionals } = parseCommandLine("cancel", {
    args: argv,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) return "help";
  if (positionals.length !== 2) {
    throw new UsageError(
      `Expected REDIS_URL and RUN, got ${positionals.length} arguments`,
      "cancel",
    );
  }
  const [url, id] = positionals as [string, string];
  checkQueueUrl(url, "cancel");
  if (!/^[0-9a-f]{1,64}$/.test(id)) {
    throw new UsageError(
      `Expected RUN to be a run id from aiokit runs (hex), got ${JSON.stringify(id)}`,
      "cancel",
    );
  }
  if (!(await reach("cancel", url))) return ExitCode.usage;
  if (await cancelRun(FETCH_QUEUE, id, { connection: url })) {
    console.log(`Cancelled run ${id}`);
    return ExitCode.ok;
  }
  process.stderr.write(
    `aiokit cancel: no active run ${id} on ${url} (aiokit runs ${url} lists them)\n`,
  );
  return ExitCode.failed;
}
