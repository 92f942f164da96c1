/**
 * CPU-bound work: 2,000 jobs (sha256 of 64 KiB, 16 rounds) on the main thread,
 * on aiokit's WorkerPool (with and without a per-job signal) and on raw
 * piscina with the same options. Targets (issue 6): under 10% over raw
 * piscina; near-linear speed-up with cores.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { WorkerPool } from "../../src/node/index.js";
import type { BenchSuite } from "../harness.js";
import { sha256 } from "../workers/hash.js";

const JOBS = 2_000;
const ROUNDS = 16;
const threads = availableParallelism();
const module = new URL("../workers/hash.js", import.meta.url);
const data = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);

async function onPool(withSignal: boolean): Promise<void> {
  await using pool = new WorkerPool({ maxThreads: threads, minThreads: threads });
  const hash = pool.fn<typeof sha256>(module, "sha256");
  const controller = new AbortController();
  const call = withSignal ? hash.with({ signal: controller.signal }) : hash;
  const jobs: Promise<string>[] = [];
  for (let i = 0; i < JOBS; i++) jobs.push(call(data, ROUNDS));
  await Promise.all(jobs);
}

const suite: BenchSuite = {
  title: `CPU-bound jobs: ${JOBS} × sha256(64 KiB) × ${ROUNDS} on ${threads} cores`,
  target: "WorkerPool under 1.10× raw piscina; pools near main thread ÷ cores",
  cases: [
    {
      name: "main thread",
      run() {
        for (let i = 0; i < JOBS; i++) sha256(data, ROUNDS);
      },
    },
    {
      name: "raw piscina",
      baseline: true,
      async run() {
        const pool = new Piscina({
          filename: fileURLToPath(module),
          maxThreads: threads,
          minThreads: threads,
          idleTimeout: 10_000,
        });
        const jobs: Promise<string>[] = [];
        for (let i = 0; i < JOBS; i++) jobs.push(pool.run({ data, rounds: ROUNDS }));
        await Promise.all(jobs);
        await pool.destroy();
      },
    },
    { name: "aiokit WorkerPool", run: () => onPool(false) },
    { name: "aiokit WorkerPool + signal", run: () => onPool(true) },
  ],
};

export default suite;
