/**
 * Workloads and hand-written baselines shared by the throughput suites
 * (bench/suites/map*.ts, limiter.ts, stream.ts). Not a suite itself.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import async from "async";
import Bluebird from "bluebird";
import pLimit from "p-limit";
import pMap from "p-map";
import PQueue from "p-queue";
import { map } from "../src/index.js";
import type { BenchCase, BenchSuite } from "./harness.js";

/** Tasks per run: the one million. BENCH_ITEMS overrides it for quick runs. */
export const N = Number(process.env.BENCH_ITEMS ?? 1_000_000);

/** The input, built when the suite is loaded (before the measurement starts). */
export const items: readonly number[] = Array.from({ length: N }, (_, i) => i);

/** The no-op async task. */
export const noop = async (x: number): Promise<number> => x;

/** Checks a result so no case can skip work unnoticed. */
export function check(results: ArrayLike<unknown>, n = N): void {
  if (results.length !== n || results[n - 1] !== n - 1) {
    throw new Error(`Wrong result: length ${results.length}, last ${String(results[n - 1])}`);
  }
}

/**
 * The practical limit for `map`: C workers pulling the next index from a
 * shared counter, results in order.
 */
export async function handWrittenLoop<T, R>(
  input: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(input.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < input.length) {
      const i = next++;
      results[i] = await fn(input[i] as T);
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < concurrency && w < input.length; w++) workers.push(worker());
  await Promise.all(workers);
  return results;
}

/** A lazy source of `n` numbers: an async generator, as users write them. */
export async function* numbers(n = N): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * The hand-written ordered sliding window for streams: at most `concurrency`
 * calls in flight, results handed out in input order, a ring of promises.
 */
export async function* slidingWindow<T, R>(
  source: AsyncIterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const window = new Array<Promise<R> | undefined>(concurrency);
  let head = 0;
  let size = 0;
  let done = false;
  try {
    for (;;) {
      while (!done && size < concurrency) {
        const step = await iterator.next();
        if (step.done === true) done = true;
        else window[(head + size++) % concurrency] = fn(step.value);
      }
      if (size === 0) return;
      const promise = window[head] as Promise<R>;
      window[head] = undefined;
      head = (head + 1) % concurrency;
      size--;
      yield await promise;
    }
  } finally {
    if (!done) await iterator.return?.();
  }
}

/** Drains an async iterable, checking it produced 0..n-1 in order (or all of them, unordered). */
export async function drain(iterable: AsyncIterable<number>, ordered = true, n = N): Promise<void> {
  let count = 0;
  let sum = 0;
  for await (const x of iterable) {
    if (ordered && x !== count) throw new Error(`Out of order: ${x} at ${count}`);
    count++;
    sum += x;
  }
  if (count !== n || sum !== (n * (n - 1)) / 2) throw new Error(`Wrong stream: ${count} items`);
}

const python = fileURLToPath(new URL("../../bench/python/gather_semaphore.py", import.meta.url));

/** The asyncio gather + Semaphore peer, or undefined where python3 is missing. */
export function asyncioCommand(concurrency: number): readonly string[] | undefined {
  const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) return undefined;
  return ["python3", python, String(N), String(concurrency)];
}

/** The `map` suite at one concurrency: aiokit, the hand-written loop and the peers. */
export function mapSuite(concurrency: number, { slowPeers }: { slowPeers: boolean }): BenchSuite {
  const cases: BenchCase[] = [
    {
      name: `hand-written worker loop (c=${concurrency})`,
      baseline: true,
      run: async () => check(await handWrittenLoop(items, concurrency, noop)),
    },
    { name: "aiokit map", run: async () => check(await map(items, noop, { concurrency })) },
    {
      name: "async.mapLimit",
      run: async () => {
        // async v3 takes async functions and returns a promise without a callback.
        const mapLimit = async.mapLimit as unknown as (
          items: readonly number[],
          limit: number,
          fn: typeof noop,
        ) => Promise<number[]>;
        check(await mapLimit(items, concurrency, noop));
      },
    },
    {
      name: "p-map",
      run: async () => {
        check(await pMap(items, noop, { concurrency }));
      },
    },
    {
      name: "bluebird Promise.map",
      run: async () => {
        check(await Bluebird.map(items, noop, { concurrency }));
      },
    },
  ];
  if (slowPeers) {
    cases.push(
      {
        name: "p-limit (Promise.all + limit)",
        run: async () => {
          const limit = pLimit(concurrency);
          check(await Promise.all(items.map((x) => limit(() => noop(x)))));
        },
      },
      {
        name: "p-queue (Promise.all + add)",
        run: async () => {
          const queue = new PQueue({ concurrency });
          check(await Promise.all(items.map((x) => queue.add(() => noop(x)))));
        },
      },
      {
        name: "python asyncio gather + Semaphore",
        command: () => asyncioCommand(concurrency),
      },
    );
  }
  return {
    title: `map: ${N.toLocaleString("en")} no-op async tasks, concurrency ${concurrency}, results in order`,
    target:
      "aiokit map within 1.3× of the hand-written loop at concurrency 1, 16 and 256; asyncio ≥ 50× slower",
    cases,
  };
}
