/**
 * Runs a fixture program in a child process and lets a test wait for lines it
 * prints: the synchronization for signal and blocking tests (no sleeps).
 * Imported by the node tests; not a test itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository's root (tests run from .build/test/node/). */
export const root = fileURLToPath(new URL("../../../", import.meta.url));
/** test/fixtures/ in the source tree: fixtures are plain .mjs run as they are. */
export const fixtures = `${root}test/fixtures/`;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Child {
  readonly process: ChildProcess;
  /** Resolves when a line of stdout or stderr matches (rejects if the child exits first). */
  line(stream: "stdout" | "stderr", pattern: RegExp): Promise<string>;
  readonly exit: Promise<Exit>;
}

/** Starts `node [nodeArgs] test/fixtures/<file> ...args`. */
export function startFixture(
  file: string,
  args: readonly string[] = [],
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Child {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), fixtures + file, ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const text = { stdout: "", stderr: "" };
  const waiters: {
    stream: "stdout" | "stderr";
    pattern: RegExp;
    resolve: (line: string) => void;
    reject: (e: Error) => void;
  }[] = [];
  const check = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      const line = text[waiter.stream].split("\n").find((l) => waiter.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(i, 1);
        waiter.resolve(line);
      }
    }
  };
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]!.setEncoding("utf8");
    child[stream]!.on("data", (chunk: string) => {
      text[stream] += chunk;
      check();
    });
  }
  const exit = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      for (const waiter of waiters.splice(0)) {
        waiter.reject(
          new Error(
            `The child exited (code ${code}) before printing ${waiter.pattern} on ${waiter.stream}\nstdout: ${text.stdout}\nstderr: ${text.stderr}`,
          ),
        );
      }
      resolve({ code, signal, ...text });
    });
  });
  return {
    process: child,
    exit,
    line(stream, pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ stream, pattern, resolve, reject });
        check();
      });
    },
  };
}

/** Runs a fixture to the end. */
export function runFixture(
  file: string,
  args: readonly string[] = [],
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Exit> {
  return startFixture(file, args, options).exit;
}
