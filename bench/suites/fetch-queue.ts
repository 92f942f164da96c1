/**
 * Issue 16: the overhead of going through Redis. The same 10,000 requests at
 * -c 64 to a node:http server, made by a local `aiokit fetch` and by
 * `aiokit fetch --queue` with one `aiokit worker` (started before the clock,
 * like the server and redis-server; the time is the producer's, start to
 * exit, which includes the worker noticing the run, ≤ 250 ms). On a 2-core
 * machine the producer, the worker, Redis and the server share the cores:
 * this shows the cost per request of the queue, not a speed-up.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedis } from "../../test/fixtures/redis-server.js";
import type { BenchSuite } from "../harness.js";

const N = 10_000;
const CONCURRENCY = 64;
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const cli = here("../../../dist/cli/main.js");
const nodeServer = here("../fetch-server.js");
const reportPeak = here("../workers/report-peak.js");

interface Context {
  readonly dir: string;
  readonly urls: string;
  readonly server: ChildProcess;
  readonly redis?: RedisServer;
  readonly worker?: ChildProcess;
}

async function startServer(): Promise<{ base: string; server: ChildProcess }> {
  const server = spawn(process.execPath, [nodeServer], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  return { base: `http://127.0.0.1:${port}`, server };
}

async function setup(distributed: boolean): Promise<Context> {
  const dir = mkdtempSync(join(tmpdir(), "aiokit-bench-fetch-queue-"));
  const { base, server } = await startServer();
  const urls = join(dir, "urls.txt");
  writeFileSync(urls, `${Array.from({ length: N }, (_, i) => `${base}/item/${i}`).join("\n")}\n`);
  if (!distributed) return { dir, urls, server };
  const redis = await startRedis();
  const worker = spawn(process.execPath, [cli, "worker", redis.url, "-c", String(CONCURRENCY)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let said = "";
    worker.stderr?.on("data", (d: Buffer) => {
      said += d.toString();
      if (said.includes("serving fetch runs")) resolve();
    });
    worker.once("exit", () => reject(new Error(`The worker exited:\n${said}`)));
  });
  return { dir, urls, server, redis, worker };
}

async function teardown(context: Context): Promise<void> {
  context.worker?.kill("SIGKILL");
  await context.redis?.stop();
  context.server.stdin?.end();
  rmSync(context.dir, { recursive: true, force: true });
}

/** Runs the producer to its end; its peak memory (MB) comes back through AIOKIT_BENCH_PEAK. */
function fetch(context: Context): { peakMb: number } {
  const peakFile = join(context.dir, "peak");
  const queue = context.redis === undefined ? [] : ["--queue", context.redis.url];
  const out = join(context.dir, "out.ndjson");
  execFileSync(
    process.execPath,
    [
      "--import",
      reportPeak,
      cli,
      "fetch",
      context.urls,
      "-c",
      String(CONCURRENCY),
      "-o",
      out,
      "-q",
      ...queue,
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, AIOKIT_BENCH_PEAK: peakFile },
    },
  );
  const lines = readFileSync(out, "utf8").split("\n").length - 1;
  if (lines !== N) throw new Error(`Expected ${N} records, got ${lines}`);
  return { peakMb: (Number(readFileSync(peakFile, "utf8")) * 1024) / 1e6 };
}

function hasRedis(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const suite: BenchSuite = {
  title: `fetch --queue: ${N.toLocaleString("en")} requests at -c ${CONCURRENCY} to a node:http server on loopback, local vs through Redis with 1 worker (peak MB is the producer's RSS)`,
  cases: [
    {
      name: "aiokit fetch (local)",
      baseline: true,
      setup: () => setup(false),
      teardown,
      run: fetch,
    },
    {
      name: "aiokit fetch --queue, 1 aiokit worker",
      available: hasRedis,
      setup: () => setup(true),
      teardown,
      run: fetch,
    },
  ],
};
export default suite;
