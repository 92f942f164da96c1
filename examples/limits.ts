/**
 * Throughput: `map` with a concurrency limit, a shared RateLimiter, `retry`
 * with exponential backoff, and a `limiter` used the way p-limit is.
 */
import { limiter, map, RateLimiter, retry, sleep } from "aiokit";

/** Stands in for a flaky API: every third call fails the first time. */
const failedOnce = new Set<number>();
async function callApi(id: number, signal: AbortSignal): Promise<string> {
  await sleep(2, { signal });
  if (id % 3 === 0 && !failedOnce.has(id)) {
    failedOnce.add(id);
    throw new Error(`503 for item ${id}`);
  }
  return `item ${id}`;
}

// At most 5 calls at once, at most 20 starts per 100 ms, each retried up to 3 times.
const rate = new RateLimiter({ limit: 20, interval: 100 });
let retries = 0;
const started = performance.now();
const results = await map(
  Array.from({ length: 30 }, (_, i) => i + 1),
  (id, _index, signal) =>
    retry((_attempt, s) => callApi(id, s), {
      retries: 3,
      minDelay: 5,
      maxDelay: 50,
      signal,
      onRetry: () => void retries++,
    }),
  { concurrency: 5, rate },
);
const ms = Math.round(performance.now() - started);
console.log(
  `${results.length} results in order (${results[0]} … ${results.at(-1)}), ${retries} retries, ${ms} ms`,
);
// 30 starts at 20 per 100 ms cannot finish before the second window opens.
if (ms < 100) throw new Error("the rate limit was not applied");

// limiter: p-limit's shape, with live counters.
const limit = limiter(2);
const calls = [1, 2, 3, 4].map((n) => limit((signal) => sleep(10, { signal }).then(() => n * n)));
console.log(`limiter: ${limit.activeCount} running, ${limit.pendingCount} queued`);
console.log(`squares: ${(await Promise.all(calls)).join(", ")}`);

const inOrder = results.every((r, i) => r === `item ${i + 1}`);
if (retries !== 10 || !inOrder) throw new Error("unexpected retries or order");
