import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TimeoutError } from "../../src/index.js";
import {
  debugOptionsFromEnv,
  formatBlockSummary,
  formatTaskTree,
  readDebugReport,
  registerUrl,
  requestTaskTree,
  summarizeBlocks,
  TaskTreeUnavailableError,
  taskTreeSocketPath,
} from "../../src/node/index.js";
import { fixtures, runFixture, startFixture } from "./child-process.js";

const program = "debug-program.mjs";
const register = ["--import", "aiokit/node/register"];
const source = readFileSync(fixtures + program, "utf8").split("\n");
const lineOf = (marker: string): number => source.findIndex((l) => l.includes(marker)) + 1;

const dir = mkdtempSync(join(tmpdir(), "aiokit-debug-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("aiokit/node/register", () => {
  it("serves the live task tree to requestTaskTree, and removes its socket at exit", async (t) => {
    const child = startFixture(program, ["serve"], { nodeArgs: register });
    t.after(() => child.process.kill("SIGKILL"));
    await child.line("stdout", /^ready$/);
    const pid = child.process.pid ?? 0;
    const snapshot = await requestTaskTree(pid, { timeout: 5_000 });
    assert.equal(snapshot.pid, pid);
    assert.equal(snapshot.tracking, true);
    assert.match(snapshot.argv.join(" "), /debug-program\.mjs serve/);
    const text = formatTaskTree(snapshot.tasks);
    const lines = text.split("\n").map((line) => line.replace(/ · .*$/, ""));
    assert.deepEqual(lines, [
      'TaskGroup "server" closing',
      `├─ Task "poller" #1 pending`,
      `└─ Task "crawl" #2 pending`,
      '   └─ TaskGroup "crawler" closing',
      `      └─ Task "fetch-1" #3 pending`,
    ]);
    assert.match(text, /\(file:\/\/.*debug-program\.mjs:\d+:\d+\)/, "spawn sites");
    assert.ok(existsSync(taskTreeSocketPath(pid)));
    child.process.kill("SIGTERM");
    const exit = await child.exit;
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(existsSync(taskTreeSocketPath(pid)), false);
    await assert.rejects(requestTaskTree(pid), (error) => {
      assert.ok(error instanceof TaskTreeUnavailableError);
      assert.equal(error.reason, "no-process");
      return true;
    });
  });

  it("times out, naming the likely cause, when the process's loop is blocked", async (t) => {
    const child = startFixture(program, ["stall"], {
      nodeArgs: register,
      env: { AIOKIT_DEBUG: "tasks,ps" },
    });
    t.after(() => child.process.kill("SIGKILL"));
    await child.line("stdout", /^stalling$/);
    await assert.rejects(requestTaskTree(child.process.pid ?? 0, { timeout: 200 }), (error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(
        error.message,
        /did not send its task tree within 200 ms: its event loop may be blocked/,
      );
      return true;
    });
  });

  it("prints the leak report at exit, with where each task was spawned", async () => {
    const report = join(dir, "leak.jsonl");
    const exit = await runFixture(program, ["leak"], {
      nodeArgs: register,
      env: { AIOKIT_REPORT: report },
    });
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(
      exit.stderr,
      new RegExp(
        `aiokit: 1 task was still pending:\\n  forgotten-group > never-ends \\(#1\\) cancelling for \\d+ms, spawned at file://.*debug-program\\.mjs:${lineOf("SPAWNED HERE")}:\\d+`,
      ),
    );
    assert.match(
      exit.stderr,
      /1 task failed and nobody saw the error.*\n {2}forgotten-group > fails .*\n\s+Error: nobody saw this/,
    );
    const { leaks } = readDebugReport(report);
    assert.equal(leaks.length, 1);
    assert.deepEqual(
      leaks[0]?.pending.map((t) => t.name),
      ["never-ends"],
    );
  });

  it("prints blocking reports and writes them to AIOKIT_REPORT for the summary", async () => {
    const report = join(dir, "block.jsonl");
    const exit = await runFixture(program, ["block"], {
      nodeArgs: register,
      env: { AIOKIT_REPORT: report },
    });
    assert.equal(exit.code, 0, exit.stderr);
    const line = lineOf("BLOCKS HERE");
    assert.match(
      exit.stderr,
      // (Node's own frames may come first: `performance` is a lazy getter.)
      new RegExp(
        `the event loop was blocked for \\d+ ms \\(threshold 100 ms\\)\\n(?: {4}at .*node:.*\\n)* {4}at busy \\(file://.*debug-program\\.mjs:${line}:\\d+\\)`,
      ),
    );
    const { blocks } = readDebugReport(report);
    assert.equal(blocks.length, 1);
    const [row] = summarizeBlocks(blocks);
    assert.equal(row?.location, `busy (test/fixtures/debug-program.mjs:${line})`);
    assert.equal(row?.count, 1);
    assert.match(
      formatBlockSummary(summarizeBlocks(blocks)),
      /^blocks {2}total ms {2}max ms {2}where\n {5}1 +\d+ +\d+ {2}busy \(/,
    );
  });

  it("is off with AIOKIT_DEBUG=0, and warns about bad settings", async () => {
    const off = await runFixture(program, ["block"], {
      nodeArgs: register,
      env: { AIOKIT_DEBUG: "0" },
    });
    assert.equal(off.stderr, "");
    const bad = await runFixture(program, ["block"], {
      nodeArgs: ["--import", registerUrl],
      env: { AIOKIT_BLOCK_THRESHOLD: "soon", AIOKIT_DEBUG: "block" },
    });
    assert.match(
      bad.stderr,
      /ignoring AIOKIT_BLOCK_THRESHOLD="soon": expected a number of milliseconds/,
    );
    assert.match(bad.stderr, /blocked for \d+ ms \(threshold 100 ms\)/);
  });
});

describe("requestTaskTree", () => {
  it("says when a process does not serve its tree", async () => {
    await assert.rejects(requestTaskTree(process.pid), (error) => {
      assert.ok(error instanceof TaskTreeUnavailableError);
      assert.equal(error.reason, "not-serving");
      assert.match(error.message, /start it with node --import aiokit\/node\/register/);
      return true;
    });
  });

  it("validates its arguments", async () => {
    await assert.rejects(
      requestTaskTree(0),
      /Expected `pid` to be an integer from 1 and up, got 0/,
    );
    await assert.rejects(requestTaskTree(1, { timeout: -1 }), /Expected `timeout`/);
    const reason = new Error("stop");
    await assert.rejects(
      requestTaskTree(process.pid, { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
  });
});

describe("debugOptionsFromEnv", () => {
  it("turns everything on by default, and picks parts", () => {
    assert.deepEqual(debugOptionsFromEnv({}), {
      blockThreshold: 100,
      trackTasks: true,
      captureStacks: true,
      leakReport: true,
      serveTaskTree: true,
    });
    assert.equal(debugOptionsFromEnv({ AIOKIT_DEBUG: "off" }), undefined);
    assert.deepEqual(
      debugOptionsFromEnv({
        AIOKIT_DEBUG: "block",
        AIOKIT_BLOCK_THRESHOLD: "40",
        AIOKIT_REPORT: "/tmp/r",
      }),
      {
        blockThreshold: 40,
        trackTasks: false,
        captureStacks: true,
        leakReport: false,
        serveTaskTree: false,
        reportFile: "/tmp/r",
      },
    );
    assert.equal(debugOptionsFromEnv({ AIOKIT_TASK_STACKS: "0" })?.captureStacks, false);
  });
});
