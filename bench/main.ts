/**
 * `npm run bench [-- filter...]`: runs every suite in bench/suites/ (or those
 * whose file name contains a filter) and prints one table per suite.
 * BENCH_RUNS sets the number of runs per case (default 5).
 */

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BenchSuite, nodeBinary, runSuite } from "./harness.js";

const dir = fileURLToPath(new URL("./suites/", import.meta.url));
const filters = process.argv.slice(2);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".js"))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
  .sort();

console.log(
  `# aiokit benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${caseNodeVersion()}, ${process.platform}/${process.arch}`,
);
for (const file of files) {
  const path = dir + file;
  const suite = ((await import(pathToFileURL(path).href)) as { default: BenchSuite }).default;
  runSuite(path, suite, runs);
}

/** The version of the Node that runs the cases (BENCH_NODE may name another one). */
function caseNodeVersion(): string {
  if (nodeBinary === process.execPath) return process.version;
  return execFileSync(nodeBinary, ["--version"], { encoding: "utf8" }).trim();
}
