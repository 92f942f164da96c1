/**
 * One case of bench/suites/monitor.ts: starts bench/workers/http-server.js in
 * another process (`plain`, `monitor`, or `register` for the whole debug
 * mode), loads it with autocannon for a few seconds, and prints
 * `{"ms":…,"peakMb":…}`: the time 40,000 requests take at the measured rate,
 * and the server's memory.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { registerUrl } from "../../src/node/index.js";

const mode = process.argv[2] ?? "plain";
const requests = Number(process.env.BENCH_HTTP_REQUESTS ?? 40_000);
const server = spawn(
  process.execPath,
  [
    ...(mode === "register" ? ["--import", registerUrl] : []),
    fileURLToPath(new URL("./http-server.js", import.meta.url)),
    mode === "monitor" ? "monitor" : "plain",
  ],
  { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, AIOKIT_DEBUG: "all" } },
);
const lines = createInterface({ input: server.stdout });
const iterator = lines[Symbol.asyncIterator]();
const port = Number((await iterator.next()).value);
const url = `http://127.0.0.1:${port}/`;
// Warm-up, then the measured run. autocannon ends runs on its one-second
// ticks, so a fixed amount of requests gives times in whole seconds: run for
// a fixed time instead and report the time `requests` take at the measured rate.
await autocannon({ url, connections: 32, amount: 2_000 });
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 4);
const result = await autocannon({ url, connections: 32, duration: seconds });
const ms = (seconds * 1_000 * requests) / result.requests.total;
if (result.non2xx > 0 || result.errors > 0) {
  throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
}
server.stdin.end();
const last = JSON.parse((await iterator.next()).value as string) as { peakMb: number };
await once(server, "exit");
console.log(JSON.stringify({ ms, peakMb: last.peakMb }));
