/** Usage errors and help texts of the `aiokit` command. */
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * Node's `parseArgs` for `command`, strict, with its errors (an unknown
 * option, a missing value) turned into a UsageError of that command.
 */
export function parseCommandLine<const T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

/**
 * A whole-number flag of `command`: `fallback` when absent, a UsageError that
 * names the flag and the bound when not a whole number of at least `min`.
 */
export function wholeNumber(
  command: string,
  flag: string,
  text: string | undefined,
  fallback: number,
  min: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(
      `Expected ${flag} to be a whole number, ${min} or more, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return value;
}

/** Exit codes, as documented in `aiokit --help`. */
export const ExitCode = {
  ok: 0,
  /** The job ran but something failed (a request error, a blocking event with --fail-on-block, …). */
  failed: 1,
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT), as shells expect. */
  interrupted: 130,
} as const;

export const mainHelp = `aiokit — structured concurrency for TypeScript, and tools that use it

Usage:
  aiokit demo [--json]                 the three asyncio workflows, measured, on a local server
  aiokit fetch [FILE|-] [options]      fetch many URLs concurrently; one NDJSON result per request
  aiokit worker REDIS_URL [options]    make the requests of fetch --queue runs (on many machines)
  aiokit runs REDIS_URL                list the fetch --queue runs; aiokit cancel REDIS_URL RUN stops one
  aiokit doctor [options] -- CMD...    run a Node program with blocking detection; summary at exit
  aiokit ps PID                        print the task tree of a program run with aiokit/node/register
  aiokit help [COMMAND]                help for a command
  aiokit --version

Exit codes:
  0    success
  1    the job ran but failed (fetch: some requests got no answer; doctor: the program failed,
       or blocked with --fail-on-block)
  2    bad command line (usage printed)
  130  interrupted by Ctrl-C
  143  stopped by SIGTERM

Colors only on a terminal; NO_COLOR turns them off.`;
