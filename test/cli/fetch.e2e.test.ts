/**
 * End-to-end tests of `aiokit fetch`: the built CLI as a child process against
 * a real local server, with real signals. Synchronised on what the server
 * sees (requests arrived), never on sleeps.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));

interface Held {
  readonly res: ServerResponse;
  readonly path: string;
}

let base = "";
let inFlight = 0;
let maxInFlight = 0;
let held: Held[] = [];
let holdAll = false;
let onArrive: (() => void) | undefined;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://x");
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  res.on("close", () => inFlight--);
  const flaky = url.searchParams.get("flaky");
  if (url.pathname === "/loop") {
    res.writeHead(302, { location: "/loop" }).end();
  } else if (url.pathname.startsWith("/chain/")) {
    res.writeHead(302, { location: `/chain/${Number(url.pathname.slice(7)) + 1}` }).end();
  } else if (url.pathname === "/status") {
    res.writeHead(Number(url.searchParams.get("code"))).end("status");
  } else if (flaky !== null) {
    // Fails until the nth attempt (counted per path), with Retry-After: 0.
    const key = url.pathname;
    const seen = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, seen);
    if (seen < Number(flaky)) res.writeHead(503, { "retry-after": "0" }).end("busy");
    else res.writeHead(200).end("recovered");
  } else if (holdAll) {
    held.push({ res, path: url.pathname });
  } else {
    setTimeout(
      () => res.writeHead(200, { "content-type": "text/plain" }).end(`body of ${url.pathname}`),
      2,
    );
  }
  onArrive?.();
});
const attempts = new Map<string, number>();

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function runCli(
  args: string[],
  input?: string,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  if (input !== undefined) child.stdin?.end(input);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

function records(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function until(condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    onArrive = () => {
      if (condition()) {
        onArrive = undefined;
        resolve();
      }
    };
  });
}

/** From now on the server holds every request (in `held`) until the test answers it. */
function holdRequests(): void {
  holdAll = true;
  held = [];
}

/** Stops holding, and answers every request held so far with 200 `body`. */
function releaseHeld(body: string): void {
  holdAll = false;
  for (const h of held) h.res.writeHead(200).end(body);
}

/** An input file of `n` URLs: `${base}/${prefix}/0` and on. */
function urlFile(prefix: string, n: number): Promise<string> {
  return tempFile(
    "in.txt",
    Array.from({ length: n }, (_, i) => `${base}/${prefix}/${i}`).join("\n"),
  );
}

/** Waits until `path` holds at least `n` complete lines (the CLI writes once per loop turn). */
async function fileHasLines(path: string, n: number): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const text = await readFile(path, "utf8").catch(() => "");
    if (text.split("\n").length > n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${path} never got ${n} lines`);
}

async function tempFile(name: string, content?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "aiokit-fetch-"));
  const path = join(dir, name);
  if (content !== undefined) await writeFile(path, content);
  return path;
}

describe("aiokit fetch", () => {
  it("writes one record per input line: answers, HTTP errors, bad lines, retried failures", async () => {
    const input = [
      `${base}/a`,
      "not a url",
      `${base}/status?code=404`,
      `${base}/r1?flaky=3`,
      `{"url":"${base}/json","method":"post","body":"x"}`,
      `{"url": 5}`,
      "http://127.0.0.1:1/refused",
    ].join("\n");
    const { done } = runCli(["fetch", "-", "-r", "3", "--progress", "never"], input);
    const { code, stdout, stderr } = await done;
    const out = records(stdout).sort((a, b) => (a.line as number) - (b.line as number));
    assert.deepEqual(
      out.map((r) => r.line),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(out[0]?.status, 200);
    assert.equal(out[0]?.body, "body of /a");
    assert.match(String(out[1]?.error), /Invalid URL/);
    assert.equal(out[2]?.status, 404);
    assert.equal(out[3]?.status, 200);
    assert.equal(out[3]?.attempts, 3, "503 with Retry-After is retried");
    assert.equal(out[4]?.method, "POST");
    assert.match(String(out[5]?.error), /"url" to be a string/);
    assert.match(String(out[6]?.error), /ECONNREFUSED/);
    assert.equal(code, 1, "some requests failed");
    assert.match(stderr, /7 requests/);
    assert.match(stderr, /p50/);
  });

  it("never has more than --concurrency requests in flight, and streams a large input", async () => {
    maxInFlight = 0;
    const lines = Array.from({ length: 2_000 }, (_, i) => `${base}/item/${i}`).join("\n");
    const output = await tempFile("out.ndjson");
    // More than 10 at once: one signal reaches every request in flight, and
    // Node must not call that a listener leak on the user's terminal.
    const args = ["fetch", "-", "-c", "32", "-o", output, "-q"];
    const { code, stderr } = await runCli(args, lines).done;
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /Warning/);
    const out = records(await readFile(output, "utf8"));
    assert.equal(out.length, 2_000);
    assert.equal(new Set(out.map((r) => r.line)).size, 2_000);
    assert.ok(maxInFlight <= 32, `max in flight ${maxInFlight}`);
    assert.ok(maxInFlight >= 2, "requests ran concurrently");
  });

  it("--per-host holds one host to its limit while the rest wait, without a warning", async () => {
    maxInFlight = 0;
    const lines = Array.from({ length: 200 }, (_, i) => `${base}/item/${i}`).join("\n");
    const output = await tempFile("out.ndjson");
    // 30 requests wait behind the host at once, each watching the first Ctrl-C's signal.
    const args = ["fetch", "-", "-c", "32", "--per-host", "2", "-o", output, "-q"];
    const { code, stderr } = await runCli(args, lines).done;
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /Warning/);
    assert.equal(records(await readFile(output, "utf8")).length, 200);
    assert.ok(maxInFlight <= 2, `max in flight ${maxInFlight}`);
  });

  it("--progress always draws done, in flight, rate, and a bar with an ETA for a file", async () => {
    holdRequests();
    const input = await urlFile("p", 20);
    const { child, done } = runCli([
      "fetch",
      input,
      "-c",
      "2",
      "-o",
      "/dev/null",
      "--progress",
      "always",
    ]);
    let stderr = "";
    const drawn = new Promise<void>((resolve) => {
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/2 in flight/.test(stderr) && /ETA/.test(stderr)) resolve();
      });
    });
    await drawn;
    assert.match(stderr, /\[ *\] +0% .*0 done · 0 failed · 2 in flight · 0\.0\/s · ETA --:--/);
    releaseHeld("ok");
    const { code } = await done;
    assert.equal(code, 0);
  });

  it("Ctrl-C stops taking work, lets requests in flight finish, flushes and exits 130", async () => {
    holdRequests();
    const input = await urlFile("h", 100);
    const output = await tempFile("out.ndjson");
    const { child, done } = runCli(["fetch", input, "-c", "4", "-o", output]);
    await until(() => held.length === 4);
    child.kill("SIGINT");
    await new Promise((resolve) => child.stderr?.once("data", resolve)); // "Stopping: …"
    releaseHeld("late");
    const { code, stderr } = await done;
    assert.equal(code, 130, stderr);
    const out = records(await readFile(output, "utf8"));
    assert.equal(out.length, 4, "exactly the requests in flight were finished and recorded");
    assert.ok(out.every((r) => r.status === 200));

    // --resume then does the remaining 96 and nothing twice.
    const resumed = await runCli(["fetch", input, "-c", "4", "-o", output, "--resume", "-q"]).done;
    assert.equal(resumed.code, 0);
    const all = records(await readFile(output, "utf8"));
    assert.equal(all.length, 100);
    assert.equal(new Set(all.map((r) => r.line)).size, 100);
  });

  it("Ctrl-C ends a run reading stdin that stays open", { timeout: 20_000 }, async () => {
    holdRequests();
    const { child, done } = runCli(["fetch", "-", "-q"]);
    child.stdin?.write(`${base}/open/1\n`); // and never ends it
    await until(() => held.length === 1);
    child.kill("SIGINT");
    releaseHeld("ok");
    const { code, stdout } = await done;
    assert.equal(code, 130);
    assert.equal(records(stdout).length, 1);
    child.stdin?.destroy();
  });

  it("a second Ctrl-C aborts the requests in flight, recorded as cancelled", async () => {
    holdRequests();
    const input = await urlFile("c", 10);
    const output = await tempFile("out.ndjson");
    const { child, done } = runCli(["fetch", input, "-c", "3", "-o", output]);
    await until(() => held.length === 3);
    child.kill("SIGINT");
    await new Promise((resolve) => child.stderr?.once("data", resolve));
    child.kill("SIGINT");
    const { code } = await done;
    holdAll = false;
    assert.equal(code, 130);
    const out = records(await readFile(output, "utf8"));
    assert.equal(out.length, 3);
    assert.ok(out.every((r) => r.error === "cancelled"));
  });

  it("kill -9 mid-run loses nothing: --resume does the rest, every line exactly once", async () => {
    holdRequests();
    const input = await urlFile("k", 50);
    const output = await tempFile("out.ndjson");
    const { child, done } = runCli(["fetch", input, "-c", "4", "-o", output, "-q"]);
    await until(() => held.length === 4);
    const first = held;
    held = [];
    for (const h of first) h.res.writeHead(200).end("before the crash");
    await until(() => held.length === 4); // the next four are in flight
    await fileHasLines(output, 4); // the first four are on disk
    child.kill("SIGKILL");
    await done;
    holdAll = false;
    for (const h of held) h.res.destroy();
    const resumed = await runCli(["fetch", input, "-c", "4", "-o", output, "--resume", "-q"]).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    const all = records(await readFile(output, "utf8"));
    assert.deepEqual(
      all.map((r) => r.line).sort((a, b) => (a as number) - (b as number)),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.ok(all.every((r) => r.status === 200));
  });

  it("--resume repairs a partial last line left by a crash", async () => {
    const input = await tempFile("in.txt", `${base}/x/1\n${base}/x/2\n${base}/x/3\n`);
    const output = await tempFile(
      "out.ndjson",
      `${JSON.stringify({ line: 1, url: `${base}/x/1`, status: 200 })}\n{"line":2,"url":"${base}/x/2","sta`,
    );
    const { code, stderr } = await runCli(["fetch", input, "-o", output, "--resume"]).done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /cut a partial last line/);
    const out = records(await readFile(output, "utf8"));
    assert.deepEqual(out.map((r) => r.line).sort(), [1, 2, 3]);
  });

  it("--save writes bodies to files named by their sha256", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiokit-save-"));
    const { stdout, code } = await runCli(["fetch", "-", "--save", dir, "-q"], `${base}/s/1\n`)
      .done;
    assert.equal(code, 0);
    const [record] = records(stdout);
    assert.match(String(record?.sha256), /^[0-9a-f]{64}$/);
    assert.deepEqual(await readdir(dir), [record?.sha256]);
    assert.equal(await readFile(String(record?.file), "utf8"), "body of /s/1");
  });

  it("a request undici would refuse (bad method or header name) is a bad line, never sent nor retried", async () => {
    // 100 such lines: past 64 (the connections of the pool) undici used to stop taking requests.
    const lines: string[] = [];
    for (let i = 0; i < 150; i++) {
      if (i % 3 === 0) lines.push(`${base}/good/${i}`);
      else if (i % 3 === 1)
        lines.push(JSON.stringify({ url: `${base}/m/${i}`, method: "BAD METHOD" }));
      else lines.push(JSON.stringify({ url: `${base}/h/${i}`, headers: { "bad name": "x" } }));
    }
    const input = lines.join("\n");
    const output = await tempFile("out.ndjson");
    for (const args of [["-q"], ["-q", "-o", output]]) {
      const { code, stdout, stderr } = await runCli(["fetch", "-", ...args], input).done;
      assert.equal(code, 1, stderr);
      const out = records(args.includes("-o") ? await readFile(output, "utf8") : stdout);
      assert.equal(out.length, 150, "every line has its record");
      assert.deepEqual(
        out.map((r) => r.line as number).sort((a, b) => a - b),
        Array.from({ length: 150 }, (_, i) => i + 1),
      );
      for (const r of out) {
        const i = (r.line as number) - 1;
        if (i % 3 === 0) assert.equal(r.status, 200);
        else {
          assert.match(
            String(r.error),
            i % 3 === 1 ? /Invalid method "BAD METHOD"/ : /Invalid header name "bad name"/,
          );
          assert.equal(r.attempts, undefined, "not sent");
        }
      }
    }
  });

  it("-X or -H that no request could be sent with is a usage error, before any request", async () => {
    const bad = await runCli(["fetch", "-", "-X", "BAD METHOD"], `${base}/x\n`).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid method "BAD METHOD"/);
    const header = await runCli(["fetch", "-", "-H", "a b: c"], `${base}/x\n`).done;
    assert.equal(header.code, 2);
    assert.match(header.stderr, /Invalid header name "a b"/);
    assert.equal(bad.stdout + header.stdout, "");
  });

  it("a redirect loop, or more redirects than --max-redirects, is a failure with its own error", async () => {
    const input = [`${base}/loop`, `${base}/chain/0`, `${base}/a`].join("\n");
    const { code, stdout } = await runCli(["fetch", "-", "-q", "--max-redirects", "3"], input).done;
    const out = records(stdout).sort((a, b) => (a.line as number) - (b.line as number));
    assert.match(String(out[0]?.error), /^redirect loop: .*\/loop redirects back to .*\/loop$/);
    assert.equal(out[0]?.ok, false);
    assert.match(String(out[1]?.error), /^too many redirects: still redirected after 3/);
    assert.equal(out[1]?.finalUrl, `${base}/chain/3`);
    assert.equal(out[2]?.status, 200);
    assert.equal(code, 1, "a redirect loop is a failure");
    // Not following redirects at all is asked for: the 3xx is the answer.
    const unfollowed = await runCli(["fetch", "-", "-q", "--max-redirects", "0"], `${base}/loop`)
      .done;
    assert.equal(unfollowed.code, 0);
    assert.equal(records(unfollowed.stdout)[0]?.status, 302);
  });

  it("checks input, --output and --save before the first request: the error alone, exit 2", async () => {
    const input = await urlFile("pre", 3);
    const link = join(await mkdtemp(join(tmpdir(), "aiokit-link-")), "out.ndjson");
    await symlink(input, link);
    const cases: [string[], RegExp][] = [
      [[input, "-o", input], /--output .* is the input file/],
      [[input, "-o", link], /--output .* is the input file/],
      [
        [input, "--save", "/proc/aiokit-test/bodies"],
        /Cannot use --save \/proc\/aiokit-test\/bodies/,
      ],
      [[`${input}.missing`], /Cannot read input .*missing: no such file/],
      [[input, "-o", "/nonexistent-dir/out.ndjson"], /Cannot write --output/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(["fetch", ...args]).done;
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /requests in/, "no summary of a run that never started");
    }
    assert.equal((await readFile(input, "utf8")).split("\n").length, 3, "the input is untouched");
  });

  it("bad options exit 2 with a usage message", async () => {
    const { code, stderr } = await runCli(["fetch", "-c", "zero"]).done;
    assert.equal(code, 2);
    assert.match(stderr, /--concurrency.*"zero"/);
    assert.match(stderr, /Usage: aiokit fetch/);
    const negative = await runCli(["fetch", "-c", "-1"]).done;
    assert.equal(negative.code, 2);
    assert.match(
      negative.stderr,
      /Expected --concurrency to be a whole number, 1 or more, got "-1"/,
    );
  });
});
