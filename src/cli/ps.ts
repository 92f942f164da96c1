/** `aiokit ps PID`: prints the live task tree of a program run with aiokit/node/register. */
import { formatTaskTree, requestTaskTree } from "../node/index.js";
import { ExitCode, parseCommandLine, UsageError } from "./usage.js";

export const psHelp = `Usage: aiokit ps PID [--json] [--timeout MS]

Prints the task tree of a running Node program, like pstree: every aiokit task group and task,
its state and age. The program must run with aiokit's debug mode:
  node --import aiokit/node/register app.js      (or under aiokit doctor)

Options:
  --json         print the snapshot as JSON
  --timeout MS   how long to wait for the answer (default 2000)
  -h, --help     this help

Exit codes: 0 printed, 1 the process could not be asked (not running, not in debug mode,
another user's), 2 bad usage.

Example:
  aiokit ps 4242`;

export async function psCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("ps", {
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    console.log(psHelp);
    return ExitCode.ok;
  }
  const pid = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isInteger(pid) || pid < 1) {
    throw new UsageError(
      `Expected one process id, got ${JSON.stringify(positionals.join(" "))}`,
      "ps",
    );
  }
  const timeout = Number(values.timeout ?? 2_000);
  if (!(timeout > 0))
    throw new UsageError(
      `Expected --timeout to be a number of ms, got ${JSON.stringify(values.timeout)}`,
      "ps",
    );
  try {
    const snapshot = await requestTaskTree(pid, { timeout });
    if (values.json === true) console.log(JSON.stringify(snapshot, null, 2));
    else {
      console.log(
        `${snapshot.pid} ${snapshot.argv.join(" ")} (node ${snapshot.node}, up ${Math.round(snapshot.uptimeMs / 1000)} s)`,
      );
      console.log(snapshot.tasks.length === 0 ? "(no tasks)" : formatTaskTree(snapshot.tasks));
    }
    return ExitCode.ok;
  } catch (error) {
    process.stderr.write(`aiokit ps: ${(error as Error).message}\n`);
    return ExitCode.failed;
  }
}
