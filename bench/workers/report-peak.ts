/**
 * Preloaded into a benchmark's child process (`node --import report-peak.js`):
 * at exit it writes the process's peak resident memory, in KiB, to the file
 * named by AIOKIT_BENCH_PEAK, so the harness can compare whole clients (the
 * aiokit CLI, a bare undici loop, a Python peer) by their own memory.
 */
import { writeFileSync } from "node:fs";

const path = process.env.AIOKIT_BENCH_PEAK;
if (path !== undefined) {
  process.on("exit", () => writeFileSync(path, String(process.resourceUsage().maxRSS)));
}
