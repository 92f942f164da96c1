/**
 * Runs one benchmark case in this (fresh) process and prints its measurement
 * as JSON: `node run-case.js <suite file> <case name>`.
 */
import { pathToFileURL } from "node:url";
import type { BenchSuite } from "./harness.js";

const [suiteFile, caseName] = process.argv.slice(2);
if (suiteFile === undefined || caseName === undefined) {
  console.error("usage: run-case.js <suite file> <case name>");
  process.exit(2);
}
const suite = ((await import(pathToFileURL(suiteFile).href)) as { default: BenchSuite }).default;
const bcase = suite.cases.find((c) => c.name === caseName);
if (bcase?.run === undefined) {
  console.error(`no runnable case ${JSON.stringify(caseName)} in ${suiteFile}`);
  process.exit(2);
}
const context = (await bcase.setup?.()) as never;
(globalThis as { gc?: () => void }).gc?.();
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const result = (await bcase.run(context)) as
  | { peakMb?: unknown; metrics?: Record<string, number> }
  | undefined;
const ms = performance.now() - started;
await bcase.teardown?.(context);
const peakMb =
  typeof result?.peakMb === "number"
    ? result.peakMb
    : Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore) / 1e6;
console.log(JSON.stringify({ ms, peakMb, metrics: result?.metrics }));
