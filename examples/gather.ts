/**
 * The brief's first program, in aiokit: run several IO-bound calls at once
 * with `gather` and collect their results in order.
 *
 * Python:
 *   results = await asyncio.gather(*(fetch(i) for i in range(3)))
 *
 * Run: npm run build && npx tsc -p . && node .build/examples/gather.js
 */
import { gather, sleep } from "aiokit";

/** Stands in for an HTTP call: waits, then answers. Honours cancellation. */
async function fetchData(id: number, signal: AbortSignal): Promise<string> {
  await sleep(200, { signal });
  return `data ${id}`;
}

const started = performance.now();
const results = await gather([
  (signal) => fetchData(1, signal),
  (signal) => fetchData(2, signal),
  (signal) => fetchData(3, signal),
]);
const ms = performance.now() - started;

console.log(results); // [ 'data 1', 'data 2', 'data 3' ]
console.log(`3 calls of 200 ms took ${Math.round(ms)} ms: they ran concurrently`);
// One after another they would take 600 ms; the margin absorbs a busy machine.
if (ms > 500) throw new Error("gather did not run the calls concurrently");
