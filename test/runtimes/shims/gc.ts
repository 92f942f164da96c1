/**
 * Stand-ins for `node:v8`'s `setFlagsFromString` and `node:vm`'s
 * `runInNewContext("gc")`, the way the core's tests reach a garbage collector.
 * Outside Node: Deno and Chromium are started with `--expose-gc` (so
 * `globalThis.gc` exists), Bun has `Bun.gc(true)`.
 */

interface BunGlobal {
  gc(force: boolean): void;
}

function collect(): () => void {
  const g = globalThis as { gc?: () => void; Bun?: BunGlobal };
  if (typeof g.gc === "function") return g.gc;
  const bun = g.Bun;
  if (bun !== undefined) return () => bun.gc(true);
  throw new Error("No garbage collector to call: start the runtime with --expose-gc");
}

/** Flags are set by the runner on the command line instead. */
export function setFlagsFromString(_flags: string): void {}

/** Only `runInNewContext("gc")` is supported: it returns the collector. */
export function runInNewContext(code: string): unknown {
  if (code !== "gc") throw new Error(`runInNewContext stand-in only supports "gc", got ${code}`);
  return collect();
}

export default { setFlagsFromString, runInNewContext };
