/**
 * Checks made before the first request, so a run never fails half-way for a
 * reason known at the start: the input is readable, the output and --save
 * are writable (created if missing), and the output is not the input (which
 * would read its own records back as input, for ever).
 */
import { constants } from "node:fs";
import { access, mkdir, open, rm, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { FetchOptions } from "./options.js";

/** A check failed: the message says what and what to do (exit 2). */
export class PreflightError extends Error {
  override readonly name = "PreflightError";
}

/** Runs every check; rejects with a PreflightError saying the first that failed. */
export async function preflight(options: FetchOptions): Promise<void> {
  const input =
    options.input === "-"
      ? undefined
      : await stat(options.input).catch(fail(`Cannot read input ${options.input}`));
  if (options.output !== undefined) await checkOutput(options.output, input);
  // With --queue the workers write the bodies: each checks DIR on its own machine.
  if (options.save !== undefined && options.queue === undefined) await ensureDir(options.save);
}

async function checkOutput(
  path: string,
  input: { dev: number; ino: number } | undefined,
): Promise<void> {
  const existing = await stat(path).catch(() => undefined); // stat follows symlinks
  if (
    existing !== undefined &&
    input !== undefined &&
    existing.dev === input.dev &&
    existing.ino === input.ino
  ) {
    throw new PreflightError(
      `--output ${path} is the input file: the run would read its own results back as input; write to another file`,
    );
  }
  const what = `Cannot write --output ${path}`;
  if (existing === undefined || existing.isFile()) {
    // Opening to append creates it and writes nothing.
    const handle = await open(path, "a").catch(fail(what));
    await handle.close();
  } else {
    await access(path, constants.W_OK).catch(fail(what));
  }
}

/**
 * Creates `dir` and its missing parents one at a time (Node's recursive
 * mkdir loops for ever on some file systems, e.g. under /proc), then checks
 * a file can be written in it.
 */
export async function ensureDir(dir: string): Promise<void> {
  const what = `Cannot use --save ${dir}`;
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const found = await stat(at).catch(() => undefined);
    if (found !== undefined) {
      if (!found.isDirectory()) throw new PreflightError(`${what}: ${at} is not a directory`);
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const path of missing) await mkdir(path).catch(fail(what));
  const probe = resolve(dir, `.aiokit-probe-${process.pid}`);
  await writeFile(probe, "").catch(fail(what));
  await rm(probe, { force: true });
}

function fail(what: string): (error: unknown) => never {
  return (error) => {
    const code = (error as { code?: string }).code;
    const why =
      code === "ENOENT"
        ? "no such file or directory"
        : code === "EACCES"
          ? "permission denied"
          : ((error as Error).message ?? String(error));
    throw new PreflightError(`${what}: ${why}`);
  };
}
