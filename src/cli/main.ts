#!/usr/bin/env node
/**
 * The `aiokit` command: demo (what `npm start` runs), fetch, doctor, ps.
 * @internal
 */
import { readFileSync } from "node:fs";
import { demoCommand, demoHelp } from "./demo/command.js";
import { doctorCommand, doctorHelp } from "./doctor.js";
import { fetchCommand } from "./fetch/command.js";
import { fetchHelp, parseFetchArgs } from "./fetch/options.js";
import { psCommand, psHelp } from "./ps.js";
import { cancelHelp, runsHelp, workerHelp } from "./queue/help.js";
import { ExitCode, mainHelp, UsageError } from "./usage.js";

const helps: Record<string, string> = {
  demo: demoHelp,
  doctor: doctorHelp,
  fetch: fetchHelp,
  ps: psHelp,
  worker: workerHelp,
  runs: runsHelp,
  cancel: cancelHelp,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
      console.log(mainHelp);
      return ExitCode.ok;
    case "help": {
      const topic = rest[0];
      console.log(topic === undefined ? mainHelp : (helps[topic] ?? mainHelp));
      return topic === undefined || topic in helps ? ExitCode.ok : ExitCode.usage;
    }
    case "-v":
    case "--version":
      console.log(version());
      return ExitCode.ok;
    case "demo":
      return demoCommand(rest);
    case "doctor":
      return doctorCommand(rest);
    case "ps":
      return psCommand(rest);
    case "fetch": {
      const options = parseFetchArgs(rest);
      if (options === "help") {
        console.log(fetchHelp);
        return ExitCode.ok;
      }
      return fetchCommand(options);
    }
    // Loaded only when used: they need bullmq and ioredis.
    case "worker": {
      const { parseWorkerArgs, workerCommand } = await import("./queue/worker-command.js");
      const args = parseWorkerArgs(rest);
      if (args === "help") {
        console.log(workerHelp);
        return ExitCode.ok;
      }
      return workerCommand(args);
    }
    case "runs":
    case "cancel": {
      const queue = await import("./queue/runs-command.js");
      const code = await (command === "runs" ? queue.runsCommand : queue.cancelCommand)(rest);
      if (code !== "help") return code;
      console.log(helps[command]);
      return ExitCode.ok;
    }
    default:
      throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`aiokit: ${error.message}\n\n${helps[error.command ?? ""] ?? mainHelp}\n`);
  process.exitCode = ExitCode.usage;
}
