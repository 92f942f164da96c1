/**
 * `aiokit fetch` stopped by a signal at the very start (issue 13): while its
 * modules load (~170 ms), and while its output, a FIFO nobody reads, is still
 * opening. The built CLI in a child process; each signal is sent on an event
 * the child reports (a module hook says when fetch starts loading), never
 * after a sleep.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));
const hook = fileURLToPath(
  new URL("../../../test/fixtures/announce-fetch-load.mjs", import.meta.url),
);
const timeout = 20_000; // a child that never exits fails the test by this

let requests = 0;
let onRequest: (() => void) | undefined;
const server = createServer((_req, res) => {
  requests++;
  res.end("ok");
  onRequest?.();
});
let dir = "";
let input = "";

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "aiokit-fetch-signals-"));
  input = join(dir, "urls.txt");
  await writeFile(input, `${base}/a\n${base}/b\n`);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs `aiokit fetch ...args` with the hook, and sends it `signal` as soon as
 * `when` says: a test of what it printed so far, or a promise.
 */
function fetchStopped(
  args: readonly string[],
  signal: NodeJS.Signals,
  when: ((stderr: string) => boolean) | Promise<void>,
): Promise<Exit> {
  const child = spawn(process.execPath, ["--import", hook, cli, "fetch", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderr = "";
  let sent = false;
  const send = (): void => {
    if (sent) return;
    sent = true;
    child.kill(signal);
  };
  if (when instanceof Promise) void when.then(send);
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
    if (typeof when === "function" && when(stderr)) send();
  });
  return new Promise((resolve) =>
    child.on("close", (code, killedBy) => resolve({ code, signal: killedBy, stderr })),
  );
}

const loading = (stderr: string): boolean => stderr.includes("test-hook: loading fetch");
/** What a run stopped at its start prints: before it started, or its summary. */
const stoppedMessage = /stopped by SIG(INT|TERM) before it started|\d+ requests in /;

describe("aiokit fetch stopped at its start (issue 13)", () => {
  it("exits 130 with a message on a Ctrl-C while it loads", { timeout }, async () => {
    const exit = await fetchStopped([input, "-o", join(dir, "int.ndjson")], "SIGINT", loading);
    assert.deepEqual([exit.code, exit.signal], [130, null], exit.stderr);
    assert.match(exit.stderr, stoppedMessage);
  });

  it("exits 143 with a message on a SIGTERM while it loads", { timeout }, async () => {
    const exit = await fetchStopped([input, "-o", join(dir, "term.ndjson")], "SIGTERM", loading);
    assert.deepEqual([exit.code, exit.signal], [143, null], exit.stderr);
    assert.match(exit.stderr, stoppedMessage);
  });

  it("exits 143 on a SIGTERM racing the opening of an output FIFO nobody reads", {
    timeout,
  }, async () => {
    const fifo = join(dir, "race.fifo");
    execFileSync("mkfifo", [fifo]);
    const exit = await fetchStopped([input, "-o", fifo], "SIGTERM", loading);
    assert.deepEqual([exit.code, exit.signal], [143, null], exit.stderr);
    assert.match(exit.stderr, /stopped by SIGTERM before it started|FIFO .* for reading/);
  });

  it("exits 143, saying what was not written, on a SIGTERM while its output FIFO waits for a reader", {
    timeout,
  }, async () => {
    const fifo = join(dir, "stuck.fifo");
    execFileSync("mkfifo", [fifo]);
    // Both requests answered: the run now waits for a reader of the FIFO, for ever.
    const start = requests;
    const answered = new Promise<void>((resolve) => {
      onRequest = () => requests - start === 2 && resolve();
    });
    const exit = await fetchStopped([input, "-o", fifo, "-c", "1"], "SIGTERM", answered);
    onRequest = undefined;
    assert.deepEqual([exit.code, exit.signal], [143, null], exit.stderr);
    assert.match(exit.stderr, /2 requests in .*: 2 answered/);
    assert.match(
      exit.stderr,
      /Stopped before anyone opened the FIFO .*stuck\.fifo for reading: its records were not written/,
    );
  });
});
