/**
 * Issue 7: `aiokit fetch` keeps memory flat however long its input is. The
 * engine (Fetcher) runs 100,000, 1,000,000 and 10,000,000 lines of a lazily
 * made input, answered in memory (no network: the engine's own cost per
 * request, records to /dev/null). Peak MB is the process's whole RSS: flat
 * memory means the same peak for 100× the input.
 */
import { fileURLToPath } from "node:url";
import type { BenchSuite } from "../harness.js";

const engine = fileURLToPath(new URL("../../test/fixtures/fetch-engine.js", import.meta.url));
const lines = (n: number) => () => [process.execPath, engine, "--run", String(n)];

const suite: BenchSuite = {
  title:
    "fetch engine, in-memory answers, concurrency 256: memory as the input grows (peak MB = whole RSS)",
  target: "peak memory for 10,000,000 lines within 1.25× of 100,000 lines",
  cases: [
    { name: "100,000 lines", baseline: true, command: lines(100_000) },
    { name: "1,000,000 lines", command: lines(1_000_000) },
    { name: "10,000,000 lines", command: lines(10_000_000) },
  ],
};
export default suite;
