#!/usr/bin/env node
/**
 * The `aiokit` command: demo (what `npm start` runs), fetch, doctor, ps,
 * and worker, runs, cancel for `fetch --queue`.
 *
 * The stop-signal handler is installed before anything else, and each
 * command is loaded with a dynamic import after it: a Ctrl-C while a
 * command loads (fetch takes ~170 ms) ends with a message and 130, not a
 * silent death (issue 13). Keep the static imports below small.
 * @internal
 */
import { commandStarting, exitCodeOf, installStopSignals } from "./stop-signals.js";
import { ExitCode, mainHelp, UsageError } from "./usage.js";

installStopSignals();

type Command = (argv: readonly string[]) => Promise<number>;

/** Each command's module, loaded on demand: its entry point and its help. */
const commands: Record<string, () => Promise<{ run: Command; help: string }>> = {
  demo: async () => {
    const m = await import("./demo/command.js");
    return { run: m.demoCommand, help: m.demoHelp };
  },
  doctor: async () => {
    const m = await import("./doctor.js");
    return { run: m.doctorCommand, help: m.doctorHelp };
  },
  fetch: async () => {
    const [command, options] = await Promise.all([
      import("./fetch/command.js"),
      import("./fetch/options.js"),
    ]);
    const run: Command = async (argv) => {
      const parsed = options.parseFetchArgs(argv);
      if (parsed !== "help") return command.fetchCommand(parsed);
      console.log(options.fetchHelp);
      return ExitCode.ok;
    };
    return { run, help: options.fetchHelp };
  },
  ps: async () => {
    const m = await import("./ps.js");
    return { run: m.psCommand, help: m.psHelp };
  },
  worker: async () => {
    const [m, { workerHelp }] = await Promise.all([
      import("./queue/worker-command.js"),
      import("./queue/help.js"),
    ]);
    const run: Command = async (argv) => {
      const args = m.parseWorkerArgs(argv);
      if (args !== "help") return m.workerCommand(args);
      console.log(workerHelp);
      return ExitCode.ok;
    };
    return { run, help: workerHelp };
  },
  runs: () => queueCommand("runs"),
  cancel: () => queueCommand("cancel"),
};

/** `aiokit runs` or `aiokit cancel`: one module, two entry points. */
async function queueCommand(name: "runs" | "cancel"): Promise<{ run: Command; help: string }> {
  const [m, helps] = await Promise.all([
    import("./queue/runs-command.js"),
    import("./queue/help.js"),
  ]);
  const help = name === "runs" ? helps.runsHelp : helps.cancelHelp;
  const command = name === "runs" ? m.runsCommand : m.cancelCommand;
  const run: Command = async (argv) => {
    const code = await command(argv);
    if (code !== "help") return code;
    console.log(help);
    return ExitCode.ok;
  };
  return { run, help };
}

/**
 * The help of worker, runs and cancel without loading them: they need bullmq
 * and ioredis, and `aiokit help worker` must work without them.
 */
async function queueHelp(name: string): Promise<string | undefined> {
  const helps = await import("./queue/help.js");
  if (name === "worker") return helps.workerHelp;
  if (name === "runs") return helps.runsHelp;
  if (name === "cancel") return helps.cancelHelp;
  return undefined;
}

async function helpOf(topic: string | undefined): Promise<string> {
  const queue = topic === undefined ? undefined : await queueHelp(topic);
  if (queue !== undefined) return queue;
  const load = topic === undefined ? undefined : commands[topic];
  return load === undefined ? mainHelp : (await load()).help;
}

async function version(): Promise<string> {
  const { readFileSync } = await import("node:fs");
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
      console.log(await helpOf(topic));
      return topic === undefined || topic in commands ? ExitCode.ok : ExitCode.usage;
    }
    case "-v":
    case "--version":
      console.log(await version());
      return ExitCode.ok;
  }
  const load = commands[command];
  if (load === undefined) throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
  const { run } = await load();
  const stopped = commandStarting();
  if (stopped !== undefined) {
    process.stderr.write(`aiokit ${command}: stopped by ${stopped} before it started\n`);
    return exitCodeOf(stopped);
  }
  return run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`aiokit: ${error.message}\n\n${await helpOf(error.command)}\n`);
  process.exitCode = ExitCode.usage;
}
