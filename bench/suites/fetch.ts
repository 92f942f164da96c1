/**
 * Issue 7: `aiokit fetch` against a bare undici loop and Python's aiohttp,
 * 100,000 requests at concurrency 256 to a local server in another process:
 * nginx when it is installed (`apt-get install nginx-light`: a server that
 * outruns any of the clients), else a node:http server. Every client is a
 * fresh process (its start-up counts for all alike) and reports its own peak
 * memory. The aiohttp case runs when Debian's python3-aiohttp is installed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchSuite } from "../harness.js";

const N = 100_000;
const CONCURRENCY = 256;
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((path) => existsSync(path));
const PYTHON = "/usr/bin/python3"; // Debian's, where python3-aiohttp installs
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const cli = here("../../../dist/cli/main.js");
const nodeServer = here("../fetch-server.js");
const undiciLoop = here("../workers/undici-loop.js");
const reportPeak = here("../workers/report-peak.js");
const aiohttpScript = fileURLToPath(
  new URL("../../../bench/python/aiohttp_fetch.py", import.meta.url),
);

interface Context {
  readonly dir: string;
  readonly base: string;
  readonly urls: string;
  readonly stop: () => void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** nginx in the foreground on a port of ours, answering "ok" to everything. */
async function startNginx(dir: string, nginx: string): Promise<{ base: string; stop: () => void }> {
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  server { listen 127.0.0.1:${port}; location / { default_type text/plain; return 200 "ok"; } } }
`,
  );
  const server = spawn(nginx, ["-c", conf, "-p", dir, "-e", join(dir, "error.log")], {
    stdio: "ignore",
  });
  await waitForPort(port);
  return { base: `http://127.0.0.1:${port}`, stop: () => server.kill("SIGQUIT") };
}

async function startNodeServer(): Promise<{ base: string; stop: () => void }> {
  const server: ChildProcess = spawn(process.execPath, [nodeServer], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  return { base: `http://127.0.0.1:${port}`, stop: () => server.stdin?.end() };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`The benchmark server did not start on port ${port}`);
}

async function setup(): Promise<Context> {
  const dir = mkdtempSync(join(tmpdir(), "aiokit-bench-fetch-"));
  const server = NGINX !== undefined ? await startNginx(dir, NGINX) : await startNodeServer();
  const urls = join(dir, "urls.txt");
  writeFileSync(
    urls,
    `${Array.from({ length: N }, (_, i) => `${server.base}/item/${i}`).join("\n")}\n`,
  );
  return { dir, base: server.base, urls, stop: server.stop };
}

function teardown(context: Context): void {
  context.stop();
  rmSync(context.dir, { recursive: true, force: true });
}

/** Runs a client to its end; its peak memory (MB) comes back through AIOKIT_BENCH_PEAK. */
function client(context: Context, argv: readonly string[]): { peakMb: number } {
  const peakFile = join(context.dir, "peak");
  const [file, ...args] = argv;
  execFileSync(file as string, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, AIOKIT_BENCH_PEAK: peakFile },
  });
  return { peakMb: (Number(readFileSync(peakFile, "utf8")) * 1024) / 1e6 };
}

function hasAiohttp(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import aiohttp"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const node = (script: string, ...args: string[]): string[] => [
  process.execPath,
  "--import",
  reportPeak,
  script,
  ...args,
];

const suite: BenchSuite = {
  title: `fetch: ${N.toLocaleString("en")} requests at concurrency ${CONCURRENCY} to ${NGINX !== undefined ? "nginx" : "a node:http server"} on loopback (each client a fresh process; peak MB is the client's whole RSS)`,
  target:
    "aiokit fetch within 15% of a bare undici loop (time ≤ 1.15×); at least 2× aiohttp's throughput (aiohttp ≥ 2.00×)",
  cases: [
    {
      name: "bare undici loop (256 workers, no records)",
      baseline: true,
      setup,
      teardown,
      run: (context: Context) =>
        client(context, node(undiciLoop, context.base, String(N), String(CONCURRENCY))),
    },
    {
      name: "aiokit fetch (CLI, NDJSON records to a file)",
      setup,
      teardown,
      run: (context: Context) =>
        client(
          context,
          node(
            cli,
            "fetch",
            context.urls,
            "-c",
            String(CONCURRENCY),
            "-o",
            join(context.dir, "out.ndjson"),
            "-q",
          ),
        ),
    },
    {
      name: "Python aiohttp + asyncio.Semaphore (NDJSON records)",
      available: hasAiohttp,
      setup,
      teardown,
      run: (context: Context) =>
        client(context, [
          PYTHON,
          aiohttpScript,
          context.urls,
          join(context.dir, "out.ndjson"),
          String(CONCURRENCY),
        ]),
    },
  ],
};
export default suite;
