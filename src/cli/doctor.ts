/**
 * `aiokit doctor -- CMD...`: runs a Node program with aiokit's debug mode
 * (blocking detection, task tracking, leak report) and ends with a table of
 * blocking events by location.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  formatBlockSummary,
  readDebugReport,
  registerUrl,
  summarizeBlocks,
} from "../node/index.js";
import { styleFor } from "./style.js";
import { ExitCode, parseCommandLine, UsageError } from "./usage.js";

export const doctorHelp = `Usage: aiokit doctor [options] -- COMMAND [ARGS...]

Runs COMMAND (a Node program: node app.js, npm start, npx tsx app.ts, …) with aiokit's debug
mode loaded through NODE_OPTIONS=--import aiokit/node/register: every time the event loop is
blocked longer than the threshold, the blocking code's stack is printed as it happens; tasks
still pending (or failures nobody saw) are listed at exit. At the end, a table of the blocking
events by location, worst first.

Options:
  --threshold MS     report blocks longer than MS milliseconds (default 100)
  --fail-on-block    exit 1 when any block was seen, even if COMMAND succeeded
  -h, --help         this help

Exit code: COMMAND's own, or 1 with --fail-on-block when the loop was blocked; 2 for bad usage.

Examples:
  aiokit doctor -- node server.js
  aiokit doctor --threshold 50 -- npx tsx scripts/etl.ts
  aiokit doctor --fail-on-block -- npm test        # in CI: no blocking allowed`;

export async function doctorCommand(argv: readonly string[]): Promise<number> {
  const dashdash = argv.indexOf("--");
  const own = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  const { values } = parseCommandLine("doctor", {
    args: own,
    options: {
      threshold: { type: "string" },
      "fail-on-block": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    console.log(doctorHelp);
    return ExitCode.ok;
  }
  if (command.length === 0)
    throw new UsageError(
      "Expected a command after --, e.g. aiokit doctor -- node app.js",
      "doctor",
    );
  const threshold = values.threshold ?? "100";
  if (!/^\d+$/.test(threshold) || Number(threshold) < 1) {
    throw new UsageError(
      `Expected --threshold to be a number of ms from 1 up, got ${JSON.stringify(threshold)}`,
      "doctor",
    );
  }

  const dir = await mkdtemp(join(tmpdir(), "aiokit-doctor-"));
  const report = join(dir, "report.jsonl");
  const nodeOptions = [process.env.NODE_OPTIONS ?? "", `--import=${JSON.stringify(registerUrl)}`]
    .join(" ")
    .trim();
  const child = spawn(command[0] as string, command.slice(1), {
    stdio: "inherit",
    env: {
      ...process.env,
      NODE_OPTIONS: nodeOptions,
      AIOKIT_DEBUG: process.env.AIOKIT_DEBUG ?? "all",
      AIOKIT_BLOCK_THRESHOLD: threshold,
      AIOKIT_REPORT: report,
    },
  });
  // The terminal sends Ctrl-C to the child too; doctor just outlives it to print the summary.
  const ignore = (): void => {};
  process.on("SIGINT", ignore);
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (exitCode, signal) =>
        resolve(exitCode ?? (signal === "SIGINT" ? 130 : 1)),
      );
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new UsageError(
      `Cannot run ${JSON.stringify(command[0])}: ${(error as Error).message}`,
      "doctor",
    );
  } finally {
    process.off("SIGINT", ignore);
  }
  const { blocks, leaks } = readDebugReport(report);
  await rm(dir, { recursive: true, force: true });
  const style = styleFor(process.stderr);
  const out: string[] = ["", style.bold("aiokit doctor")];
  if (blocks.length === 0) out.push(style.green(`no blocking longer than ${threshold} ms`));
  else {
    out.push(
      style.yellow(
        `${blocks.length} blocking event${blocks.length === 1 ? "" : "s"} longer than ${threshold} ms:`,
      ),
    );
    out.push(formatBlockSummary(summarizeBlocks(blocks)));
  }
  const pending = leaks.reduce((n, leak) => n + leak.pending.length, 0);
  const unobserved = leaks.reduce((n, leak) => n + leak.unobservedFailures.length, 0);
  if (pending + unobserved > 0)
    out.push(
      style.yellow(
        `leak report: ${pending} tasks still pending at exit, ${unobserved} failures nobody observed`,
      ),
    );
  out.push(style.dim(`${command.join(" ")} exited with ${code}`));
  process.stderr.write(`${out.join("\n")}\n`);
  if (code === 0 && values["fail-on-block"] === true && blocks.length > 0) return ExitCode.failed;
  return code;
}
