/**
 * Pool throughput: 1,000,000 acquire/release cycles by 64 concurrent borrowers
 * on a pool of 16 resources, so 48 borrowers always wait and nearly every
 * release hands a resource straight to a waiter.
 *
 * Every library runs the same loop: `await` the acquire, then release. The
 * release is not awaited: it is synchronous in all three (aiokit's and
 * generic-pool's return an already settled promise, tarn's a boolean), and
 * awaiting it would add the same fixed cost to each. The "await using" case
 * shows aiokit's idiomatic form, which awaits the release. Resources are plain
 * objects created 16 times, so the figures are the pools' own overhead.
 */
import { createPool } from "generic-pool";
import { Pool as TarnPool } from "tarn";
import { Pool } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";

const CYCLES = Number(process.env.POOL_BENCH_CYCLES ?? 1_000_000);
const BORROWERS = 64;
const SIZE = 16;
const PER_BORROWER = Math.ceil(CYCLES / BORROWERS);

async function drive(borrower: () => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: BORROWERS }, borrower));
}

async function aiokit(): Promise<void> {
  const pool = new Pool({ create: () => ({}), destroy: () => {}, max: SIZE });
  await drive(async () => {
    for (let i = 0; i < PER_BORROWER; i++) {
      const lease = await pool.acquire();
      void lease.release();
    }
  });
  await pool.close();
}

async function aiokitAwaitUsing(): Promise<void> {
  const pool = new Pool({ create: () => ({}), destroy: () => {}, max: SIZE });
  await drive(async () => {
    for (let i = 0; i < PER_BORROWER; i++) {
      await using _lease = await pool.acquire();
    }
  });
  await pool.close();
}

async function genericPool(): Promise<void> {
  const pool = createPool(
    { create: async () => ({}), destroy: async () => {} },
    { max: SIZE, min: 0 },
  );
  await drive(async () => {
    for (let i = 0; i < PER_BORROWER; i++) {
      const resource = await pool.acquire();
      void pool.release(resource);
    }
  });
  await pool.drain();
  await pool.clear();
}

async function tarn(): Promise<void> {
  const pool = new TarnPool({ create: async () => ({}), destroy: () => {}, min: 0, max: SIZE });
  await drive(async () => {
    for (let i = 0; i < PER_BORROWER; i++) {
      const resource = await pool.acquire().promise;
      pool.release(resource);
    }
  });
  await pool.destroy();
}

const suite: BenchSuite = {
  title: `pool: ${CYCLES.toLocaleString("en")} acquire/release cycles, ${BORROWERS} borrowers, ${SIZE} resources`,
  target:
    "aiokit Pool at least 3× the throughput of generic-pool and tarn (their time ratio ≥ 3.00)",
  cases: [
    { name: "aiokit Pool", run: aiokit, baseline: true },
    { name: "aiokit Pool, await using", run: aiokitAwaitUsing },
    { name: "generic-pool", run: genericPool },
    { name: "tarn", run: tarn },
  ],
};

export default suite;
