/**
 * The baseline of the fetch benchmark: a bare undici loop, the least a
 * client can do. C workers take the next of N URLs, request it and read the
 * body; no input file, no records, no retries, no limits.
 * `node undici-loop.js BASE N C`
 */
import { Agent } from "undici";

const [base, n, c] = process.argv.slice(2);
const total = Number(n);
const concurrency = Number(c);
const agent = new Agent({ connections: concurrency });
let next = 0;
let failed = 0;
const worker = async (): Promise<void> => {
  while (next < total) {
    const url = new URL(`${base}/item/${next++}`);
    const res = await agent.request({ origin: url.origin, path: url.pathname, method: "GET" });
    await res.body.text();
    if (res.statusCode !== 200) failed++;
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
await agent.close();
if (failed > 0) throw new Error(`${failed} requests failed`);
