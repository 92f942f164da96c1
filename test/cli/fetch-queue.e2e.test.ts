/**
 * End-to-end tests of `aiokit fetch --queue` and `aiokit worker`/`runs`/
 * `cancel` (issue 16): the built CLI as child processes, a real redis-server
 * on a random loopback port, and a local server that counts what arrives
 * (in flight, starts per sliding second). Synchronised on what the server or
 * the processes report, never on sleeps.
 *
 * Scaled to stay well under a minute per test on a loaded 2-core machine:
 * 2,000 URLs for the concurrency test, 1,000 for the crash tests, 250 for the
 * rate test.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { TestServer } from "../fixtures/bullmq-harness.js";
import { type RedisServer, startRedis } from "../fixtures/redis-server.js";

const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));

interface Cli {
  readonly child: ChildProcess;
  readonly done: Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>;
  /** Resolves once stderr has `text`; rejects when the process exits first. */
  said(text: string): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

function aiokit(args: string[]): Cli {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const l of listeners) l();
  });
  const done = new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    done,
    said(text) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!stderr.includes(text)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void done.then(() => {
          if (listeners.has(check)) reject(new Error(`Exited before saying ${text}:\n${stderr}`));
        });
      });
    },
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

let redis: RedisServer;
let server: TestServer;
let dir: string;
const workers: Cli[] = [];

before(async () => {
  redis = await startRedis();
  server = await new TestServer().listen();
  dir = await mkdtemp(join(tmpdir(), "aiokit-fetch-queue-"));
});
after(async () => {
  for (const w of workers) w.kill();
  await server.close();
  await redis.stop();
});

// A test that fails must not leave its workers serving the next test's run.
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.kill();
    await w.done;
  }
});

/** The sliding window the rate tests check, allowing for delivery jitter (see busiest). */
const JITTER_WINDOW = 900;

/** Starts a worker process and resolves once it serves. */
async function worker(...args: string[]): Promise<Cli> {
  const w = aiokit(["worker", redis.url, ...args]);
  workers.push(w);
  await w.said("serving fetch runs");
  return w;
}

/** An input file of `n` URLs to the test server, each held `ms`; `run` tells runs apart at the server. */
async function urls(run: string, n: number, ms: number): Promise<string> {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`${server.url}/visit?run=${run}&ms=${ms}&n=${i}`);
  const file = join(dir, `${run}.txt`);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

interface Rec {
  readonly line: number;
  readonly status?: number;
  readonly error?: string;
  readonly body?: string;
}

async function records(file: string): Promise<Rec[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Rec);
}

/** Every line 1..n exactly once, each answered 200 with the server's body. */
function assertComplete(recs: readonly Rec[], n: number): void {
  const lines = recs.map((r) => r.line).sort((a, b) => a - b);
  assert.equal(new Set(lines).size, lines.length, "a line is recorded twice");
  assert.deepEqual(
    lines,
    Array.from({ length: n }, (_, i) => i + 1),
  );
  for (const r of recs) {
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.equal(r.body, String(r.line * 2));
  }
}

function startsOf(run: string): number[] {
  return server.starts.filter((s) => s.run === run).map((s) => s.at);
}

// A lost request would hang a run: every test has a time limit, far above what it takes.
describe("aiokit fetch --queue with aiokit workers", {
  concurrency: false,
  timeout: 90_000,
}, () => {
  it("2 workers, 2,000 URLs, -c 20: 2,000 distinct records, never more than 20 in flight", async () => {
    const w1 = await worker("-c", "20");
    const w2 = await worker("-c", "20");
    const input = await urls("c20", 2000, 5);
    const out = join(dir, "c20.ndjson");
    const fetch = aiokit(["fetch", input, "-o", out, "--queue", redis.url, "-c", "20"]);
    const { code, stderr } = await fetch.done;
    assert.equal(code, 0, stderr);
    assertComplete(await records(out), 2000);
    assert.ok(
      (server.maxActive.get("c20") ?? 0) <= 20,
      `in flight: ${server.maxActive.get("c20")}`,
    );
    assert.ok((server.maxActive.get("c20") ?? 0) >= 10, "the run did not go wide");
    assert.match(stderr, /2000 requests in .*: 2000 answered, 0 failed/);
    assert.match(stderr, /by status: 200: 2000/);
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    for (const w of [w1, w2]) {
      const r = await w.done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stopped/);
    }
  });

  it("--per-host 5 holds per host across 2 workers", async () => {
    const w1 = await worker("-c", "20");
    const w2 = await worker("-c", "20");
    const input = await urls("host", 200, 10);
    const out = join(dir, "host.ndjson");
    const args = ["fetch", input, "-o", out, "--queue", redis.url, "-c", "20", "--per-host", "5"];
    const { code, stderr } = await aiokit(args).done;
    assert.equal(code, 0, stderr);
    assertComplete(await records(out), 200);
    const most = server.maxActive.get("host") ?? 0;
    assert.ok(most <= 5 && most >= 3, `in flight at one host: ${most}`);
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    await Promise.all([w1.done, w2.done]);
  });

  it("kill -9 of a worker mid-run: exit 0, no record missing or twice", async () => {
    const doomed = await worker("-c", "10", "--lock-ms", "1000");
    const other = await worker("-c", "10", "--lock-ms", "1000");
    const input = await urls("kill", 1000, 20);
    const out = join(dir, "kill.ndjson");
    const fetch = aiokit(["fetch", input, "-o", out, "--queue", redis.url, "-c", "20"]);
    await server.until(() => startsOf("kill").length >= 200, "200 requests");
    doomed.kill("SIGKILL");
    const { code, stderr } = await fetch.done;
    assert.equal(code, 0, stderr);
    assertComplete(await records(out), 1000);
    other.kill("SIGTERM");
    await other.done;
  });

  it("--rate 100/s holds in every sliding second at the server", async () => {
    const w1 = await worker("-c", "20");
    const w2 = await worker("-c", "20");
    const input = await urls("rate", 250, 1);
    const out = join(dir, "rate.ndjson");
    const fetch = aiokit(["fetch", input, "-o", out, "--queue", redis.url, "--rate", "100/s"]);
    const { code, stderr } = await fetch.done;
    assert.equal(code, 0, stderr);
    assertComplete(await records(out), 250);
    const most = busiest(startsOf("rate"));
    assert.ok(most <= 100, `${most} starts in one sliding ${JITTER_WINDOW} ms`);
    assert.ok(most >= 50, `only ${most} starts in the busiest second`);
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    await Promise.all([w1.done, w2.done]);
  });

  it("--rate 20/s --rate-per-host holds for each host in every sliding second, across 2 workers", async () => {
    const other = await new TestServer().listen(); // another port: another host
    try {
      const w1 = await worker("-c", "20");
      const w2 = await worker("-c", "20");
      const lines: string[] = [];
      for (let i = 1; i <= 60; i++) {
        for (const s of [server, other])
          lines.push(`${s.url}/visit?run=perhost&ms=1&n=${lines.length + 1}`);
      }
      const input = join(dir, "perhost.txt");
      await writeFile(input, `${lines.join("\n")}\n`);
      const out = join(dir, "perhost.ndjson");
      const args = [
        "fetch",
        input,
        "-o",
        out,
        "--queue",
        redis.url,
        "--rate",
        "20/s",
        "--rate-per-host",
      ];
      const { code, stderr } = await aiokit(args).done;
      assert.equal(code, 0, stderr);
      assertComplete(await records(out), 120);
      const at = (s: TestServer) => s.starts.filter((x) => x.run === "perhost").map((x) => x.at);
      assert.equal(at(server).length + at(other).length, 120);
      assert.ok(
        busiest(at(server)) <= 20,
        `${busiest(at(server))} starts at one host in ${JITTER_WINDOW} ms`,
      );
      assert.ok(
        busiest(at(other)) <= 20,
        `${busiest(at(other))} starts at the other in ${JITTER_WINDOW} ms`,
      );
      // Per host, not for the run: both hosts go at their rate at once.
      assert.ok(busiest([...at(server), ...at(other)]) > 20, "the limit was for the whole run");
      w1.kill("SIGTERM");
      w2.kill("SIGTERM");
      await Promise.all([w1.done, w2.done]);
    } finally {
      await other.close();
    }
  });

  it("aiokit cancel stops the run on every worker within a second; the workers go on", async () => {
    const w1 = await worker("-c", "10");
    const w2 = await worker("-c", "10");
    const input = await urls("cancel", 100, 60_000); // held until aborted
    const out = join(dir, "cancel.ndjson");
    const fetch = aiokit(["fetch", input, "-o", out, "--queue", redis.url, "-c", "20"]);
    await server.until(() => (server.active.get("cancel") ?? 0) === 20, "20 requests in flight");
    const list = aiokit(["runs", redis.url, "--json"]);
    const listed = await list.done;
    assert.equal(listed.code, 0, listed.stderr);
    const runs = listed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; workers: number; label: string });
    assert.equal(runs.length, 1);
    const run = runs[0] as { id: string; workers: number; label: string };
    assert.equal(run.workers, 2);
    assert.ok(run.label.endsWith(out), run.label);
    const started = performance.now();
    const cancel = await aiokit(["cancel", redis.url, run.id]).done;
    assert.equal(cancel.code, 0, cancel.stderr);
    await server.until(
      () => (server.active.get("cancel") ?? 0) === 0,
      "the requests aborted",
      5000,
    );
    const took = performance.now() - started;
    assert.ok(took < 1000, `stopped after ${took.toFixed(0)} ms`);
    const produced = await fetch.done;
    assert.equal(produced.code, 1);
    assert.match(produced.stderr, /was cancelled/);
    // Nothing left in Redis, nothing more starts, and the same workers serve the next run.
    assert.equal((await aiokit(["runs", redis.url]).done).stdout.trim(), "No fetch runs.");
    const next = join(dir, "after-cancel.ndjson");
    const again = await aiokit([
      "fetch",
      await urls("after-cancel", 50, 1),
      "-o",
      next,
      "--queue",
      redis.url,
    ]).done;
    assert.equal(again.code, 0, again.stderr);
    assertComplete(await records(next), 50);
    assert.equal(startsOf("cancel").length, 20, "a cancelled request started again");
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    await Promise.all([w1.done, w2.done]);
  });

  it("Ctrl-C on the producer lets the requests finish; twice cancels the run everywhere", async () => {
    const w1 = await worker("-c", "10");
    const w2 = await worker("-c", "10");
    const input = await urls("sigint", 100, 60_000); // held until aborted
    const out = join(dir, "sigint.ndjson");
    const fetch = aiokit(["fetch", input, "-o", out, "--queue", redis.url, "-c", "20"]);
    await server.until(() => (server.active.get("sigint") ?? 0) === 20, "20 requests in flight");
    fetch.kill("SIGINT");
    await fetch.said("Stopping:");
    assert.equal(server.active.get("sigint"), 20, "the first Ctrl-C aborted requests");
    const started = performance.now();
    fetch.kill("SIGINT");
    await server.until(
      () => (server.active.get("sigint") ?? 0) === 0,
      "the requests aborted",
      5000,
    );
    const took = performance.now() - started;
    assert.ok(took < 1000, `stopped after ${took.toFixed(0)} ms`);
    const { code, stderr } = await fetch.done;
    assert.equal(code, 130, stderr);
    assert.equal((await aiokit(["runs", redis.url]).done).stdout.trim(), "No fetch runs.");
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    await Promise.all([w1.done, w2.done]);
  });

  it("kill -9 of the producer, then --resume: attaches to the run, completes, no line twice", async () => {
    const w1 = await worker("-c", "10");
    const w2 = await worker("-c", "10");
    const input = await urls("resume", 1000, 20);
    const out = join(dir, "resume.ndjson");
    const args = ["fetch", input, "-o", out, "--queue", redis.url, "-c", "20"];
    const first = aiokit(args);
    await server.until(() => startsOf("resume").length >= 300, "300 requests");
    first.kill("SIGKILL");
    await first.done;
    const before = (await records(out).catch(() => [])).length;
    assert.ok(before < 1000, "the run was over before the kill");
    const resumed = aiokit([...args, "--resume"]);
    const { code, stderr } = await resumed.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Resume: attaching to run [0-9a-f]+/);
    assertComplete(await records(out), 1000);
    w1.kill("SIGTERM");
    w2.kill("SIGTERM");
    await Promise.all([w1.done, w2.done]);
  });

  it("--save DIR missing on the worker fails each request, saying so", async () => {
    const w = await worker();
    const out = join(dir, "save.ndjson");
    const missing = join(dir, "no-such-dir");
    const { code, stderr } = await aiokit([
      "fetch",
      await urls("save", 3, 1),
      "-o",
      out,
      "--queue",
      redis.url,
      "--save",
      missing,
    ]).done;
    assert.equal(code, 1, stderr);
    const recs = await records(out);
    assert.equal(recs.length, 3);
    for (const r of recs) {
      assert.match(
        r.error ?? "",
        /--save .*no-such-dir is not a directory on worker .*shared mount/,
      );
    }
    assert.equal(startsOf("save").length, 0);
    w.kill("SIGTERM");
    await w.done;
  });
});

describe("aiokit fetch --queue and worker on bad input", { timeout: 60_000 }, () => {
  it("a wrong URL scheme is a usage error", async () => {
    for (const args of [
      ["fetch", "-", "--queue", "http://127.0.0.1:6379"],
      ["worker", "redis//127.0.0.1"],
      ["runs", "postgres://x/0"],
    ]) {
      const { code, stderr } = await aiokit(args).done;
      assert.equal(code, 2, stderr);
      assert.match(stderr, /Expected a Redis URL like redis:\/\/HOST:PORT\/DB/);
    }
  });

  it("an unreachable Redis fails at once with exit 2, never hangs", async () => {
    const closed = await closedPort();
    const url = `redis://127.0.0.1:${closed}/0`;
    const input = await urls("unreachable", 1, 1);
    for (const args of [
      ["fetch", input, "-o", join(dir, "unreachable.ndjson"), "--queue", url],
      ["worker", url],
      ["cancel", url, "abc"],
    ]) {
      const { code, stderr } = await aiokit(args).done;
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        /Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0 \(ECONNREFUSED\); is redis-server running there\?/,
      );
    }
  });

  it("a Redis older than 6.2 is refused, by the producer and by a worker", async () => {
    const old = await fakeRedis("5.0.14");
    try {
      const url = `redis://127.0.0.1:${old.port}/0`;
      const input = await urls("old", 1, 1);
      for (const args of [
        ["fetch", input, "-o", join(dir, "old.ndjson"), "--queue", url],
        ["worker", url],
      ]) {
        const { code, stderr } = await aiokit(args).done;
        assert.equal(code, 1, stderr);
        assert.match(stderr, /is version 5\.0\.14; aiokit\/bullmq needs Redis 6\.2 or later/);
      }
    } finally {
      old.server.close();
    }
  });

  it("Redis dying mid-run: producer and worker exit non-zero with a clear error, records kept", async () => {
    const own = await startRedis();
    try {
      const w = aiokit(["worker", own.url, "-c", "10"]);
      await w.said("serving fetch runs");
      const input = await urls("dies", 500, 20);
      const out = join(dir, "dies.ndjson");
      const fetch = aiokit(["fetch", input, "-o", out, "--queue", own.url, "-c", "10"]);
      await server.until(() => startsOf("dies").length >= 100, "100 requests");
      await own.stop();
      const [produced, served] = await Promise.all([fetch.done, w.done]);
      assert.equal(produced.code, 1, produced.stderr);
      assert.match(
        produced.stderr,
        /aiokit fetch failed: Lost the connection to Redis at 127\.0\.0\.1:\d+/,
      );
      assert.equal(served.code, 1, served.stderr);
      assert.match(served.stderr, /aiokit worker failed: Lost the connection to Redis/);
      const recs = await records(out);
      assert.ok(recs.length > 0 && recs.length < 500, `${recs.length} records`);
      assert.equal(new Set(recs.map((r) => r.line)).size, recs.length);
    } finally {
      await own.stop();
    }
  });
});

/** The most starts (times in ms) in any sliding second. */
/**
 * The most starts the server saw in any sliding window of `ms`. The limiter
 * decides a start in the worker, the server sees it a little later, and on a
 * loaded machine that delay varies: two starts the limiter spaced 1,000 ms
 * apart can reach the server 950 ms apart. The rate tests allow for 100 ms
 * of that jitter (a 900 ms window); without a limiter every start here falls
 * within far less, so they still fail.
 */
function busiest(times: readonly number[], ms = JITTER_WINDOW): number {
  const starts = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < starts.length; j++) {
    while ((starts[j] as number) - (starts[i] as number) >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A server that speaks just enough RESP to pass for Redis `version`. */
async function fakeRedis(version: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on("data", (data) => {
      // One reply per command (arrays start with *): INFO gets the version, the rest +OK / PONG.
      for (const command of data.toString().split("*").slice(1)) {
        const name = command.split("\r\n")[2]?.toLowerCase();
        if (name === "info") {
          const info = `# Server\r\nredis_version:${version}\r\nloading:0\r\n`;
          socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
        } else if (name === "ping") socket.write("+PONG\r\n");
        else socket.write("+OK\r\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}
