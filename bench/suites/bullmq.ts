/**
 * Issue 15: what distributing costs. The same 5,000 GETs to a local HTTP
 * server (another process) through `localQueue().run` and through
 * `distributedQueue().run` with 1 and 2 worker processes, `chunk` 1 and 100,
 * and with `key` + `perKey` (a chunk's inputs run one after another, so the
 * chunk cases get `window: 5000`: 50 jobs of 100 at once, like the others'
 * 50 inputs). Each case is a fresh process with its own
 * redis-server on a free loopback port (no persistence, killed by PID) and
 * its own workers, warmed up before the timed run. "cmds/item" is Redis's
 * `total_commands_processed` over the run divided by the items: every
 * command of the producer and the workers, their polling included. On this
 * 2-core machine a speed-up from more workers cannot show; the overhead can.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { distributedQueue, localQueue, type RunOptions } from "../../src/bullmq/index.js";
import { type RedisServer, startRedis } from "../../test/fixtures/redis-server.js";
import type { BenchSuite } from "../harness.js";
import { hit, whoami } from "../workers/bullmq-tasks.js";

const N = 5000;
const CONCURRENCY = 50; // the run's, and each worker's
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const serverScript = here("../fetch-server.js");
const workerScript = here("../workers/bullmq-worker.js");

interface Context {
  readonly url: string;
  readonly redis?: RedisServer;
  readonly probe?: Redis;
  readonly children: ChildProcess[];
}

let hasRedis: boolean | undefined;
function redisInstalled(): boolean {
  if (hasRedis === undefined) {
    hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
    if (!hasRedis) {
      console.log(
        "skip: redis-server is not installed (apt-get install redis-server): distributed cases left out",
      );
    }
  }
  return hasRedis;
}

async function startServer(children: ChildProcess[]): Promise<string> {
  const server = spawn(process.execPath, [serverScript], { stdio: ["pipe", "pipe", "inherit"] });
  children.push(server);
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  return `http://127.0.0.1:${port}/`;
}

function killAll(context: Context): void {
  for (const child of context.children) {
    if (child.exitCode === null && child.signalCode === null)
      process.kill(child.pid as number, "SIGKILL");
  }
}

async function localSetup(): Promise<Context> {
  const children: ChildProcess[] = [];
  return { url: await startServer(children), children };
}

/** Redis, the server and `workers` worker processes, each seen taking jobs before the timed run. */
async function distributedSetup(workers: number): Promise<Context> {
  const children: ChildProcess[] = [];
  const redis = await startRedis();
  const context: Context = {
    url: await startServer(children),
    redis,
    probe: new Redis(redis.url),
    children,
  };
  process.once("exit", () => killAll(context));
  for (let i = 0; i < workers; i++) {
    children.push(
      spawn(process.execPath, [workerScript, redis.url, String(CONCURRENCY)], {
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
  }
  const queue = distributedQueue("bench", { connection: redis.url });
  for (let tries = 0; ; tries++) {
    const pids = new Set(await queue.map(Array(4 * CONCURRENCY).fill(20), whoami));
    if (pids.size === workers) break;
    if (tries === 20) throw new Error(`only ${pids.size} of ${workers} workers took jobs`);
  }
  return context;
}

async function teardown(context: Context): Promise<void> {
  context.probe?.disconnect();
  killAll(context);
  await context.redis?.stop();
}

async function commandsProcessed(probe: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await probe.info("stats"))?.[1]);
}

function distributed(workers: number, options: RunOptions<string>, label: string) {
  return {
    name: `distributed, ${workers} worker${workers === 1 ? "" : "s"}, ${label}`,
    available: redisInstalled,
    setup: () => distributedSetup(workers),
    teardown,
    async run(context: Context) {
      const probe = context.probe as Redis;
      const before = await commandsProcessed(probe);
      const queue = distributedQueue("bench", { connection: (context.redis as RedisServer).url });
      let done = 0;
      const urls = Array.from({ length: N }, (_, i) => `${context.url}?${i}`);
      for await (const o of queue.run(urls, hit, { concurrency: CONCURRENCY, ...options })) {
        if (o.status === "rejected") throw o.reason;
        done++;
      }
      if (done !== N) throw new Error(`${done} outcomes for ${N} inputs`);
      const commands = (await commandsProcessed(probe)) - before;
      return { metrics: { "cmds/item": commands / N } };
    },
  };
}

const keyed: RunOptions<string> = {
  key: (url) => String(Number(url.split("?")[1]) % 16),
  perKey: 4,
};

const suite: BenchSuite = {
  title: `aiokit/bullmq: ${N.toLocaleString("en")} GETs to a local server, concurrency ${CONCURRENCY}`,
  target: "overhead shown, not speed-up (2 cores); chunk 100 cuts Redis commands per item",
  items: N,
  cases: [
    {
      name: "localQueue",
      baseline: true,
      setup: localSetup,
      teardown,
      async run(context: Context) {
        const urls = Array.from({ length: N }, (_, i) => `${context.url}?${i}`);
        for await (const o of localQueue().run(urls, hit, { concurrency: CONCURRENCY })) {
          if (o.status === "rejected") throw o.reason;
        }
      },
    },
    distributed(1, {}, "chunk 1"),
    distributed(1, { chunk: 100, window: N }, "chunk 100"),
    distributed(2, {}, "chunk 1"),
    distributed(2, { chunk: 100, window: N }, "chunk 100"),
    distributed(2, keyed, "perKey 4 × 16 keys"),
  ],
};

export default suite;
