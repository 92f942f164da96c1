import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { type BlockReport, formatBlockReport, monitorEventLoop } from "../../src/node/index.js";
import { fixtures, runFixture } from "./child-process.js";

const program = "block-program.mjs";
const programUrl = pathToFileURL(fixtures + program).href;
const source = readFileSync(fixtures + program, "utf8").split("\n");

/** 1-based line of the blocking call in `fn` of the fixture. */
function markedLine(fn: string): number {
  const start = source.findIndex((line) => line.startsWith(`function ${fn}(`));
  const offset = source.slice(start).findIndex((line) => line.includes("// BLOCKS HERE"));
  assert.ok(start >= 0 && offset > 0, `marker of ${fn}`);
  return start + offset + 1;
}

async function reportsOf(mode: string): Promise<{ reports: BlockReport[]; stdout: string }> {
  const exit = await runFixture(program, [mode]);
  assert.equal(exit.code, 0, exit.stderr);
  const reports = exit.stdout
    .split("\n")
    .filter((line) => line.startsWith("REPORT "))
    .map((line) => JSON.parse(line.slice("REPORT ".length)) as BlockReport);
  return { reports, stdout: exit.stdout };
}

/** The first frame outside Node's own code. */
function programFrame(report: BlockReport): BlockReport["frames"][number] | undefined {
  return report.frames.find((f) => !f.url.startsWith("node:"));
}

function assertBlockedIn(report: BlockReport | undefined, fn: string): void {
  assert.ok(report !== undefined);
  assert.equal(report.stack, "captured");
  // The top frames may be Node's own (inside readFileSync, execSync); the first
  // frame of the program must be the blocking call.
  const frame = report.frames.find((f) => !f.url.startsWith("node:"));
  assert.ok(frame, `a frame of the program: ${JSON.stringify(report.frames)}`);
  assert.equal(frame.url, programUrl);
  assert.equal(frame.function, fn);
  assert.equal(frame.line, markedLine(fn));
  assert.ok(report.duration >= report.threshold, `duration ${report.duration}`);
}

describe("monitorEventLoop (child processes)", () => {
  for (const [mode, fn, minimum] of [
    ["busy", "busyLoop", 250],
    ["readfile", "readLargeFile", 250],
    ["exec", "runSleep", 150],
    ["atomics", "waitOnAtomics", 250],
  ] as const) {
    it(`reports a ${mode} block once, with the blocking function and line`, async () => {
      const { reports, stdout } = await reportsOf(mode);
      // On a machine starved of CPU the program may also be seen stalled
      // elsewhere; the blocking call itself must be reported exactly once.
      const here = reports.filter((r) => programFrame(r)?.function === fn);
      assert.equal(here.length, 1, stdout);
      assertBlockedIn(here[0], fn);
      assert.ok((here[0]?.duration ?? 0) >= minimum, stdout);
    });
  }

  it("names the aiokit task that was running", async () => {
    const { reports } = await reportsOf("task");
    const here = reports.filter((r) => programFrame(r)?.function === "busyLoop");
    assert.equal(here.length, 1);
    assertBlockedIn(here[0], "busyLoop");
    assert.deepEqual(here[0]?.task?.path, ["main", "cruncher"]);
    assert.equal(here[0]?.task?.name, "cruncher");
  });

  it("reports a block that the program ends with (process.exit() right after it)", async () => {
    const { reports, stdout } = await reportsOf("exit");
    const here = reports.filter((r) => programFrame(r)?.function === "busyLoop");
    assert.equal(here.length, 1, stdout);
    assertBlockedIn(here[0], "busyLoop");
  });

  it("reports nothing for a program that never blocks", async () => {
    const { reports, stdout } = await reportsOf("none");
    assert.deepEqual(reports, []);
    assert.match(stdout, /^DONE blocks=0$/m);
  });

  it("never keeps the process alive", async () => {
    const { stdout } = await reportsOf("forget");
    assert.match(stdout, /FORGOTTEN/);
  });
});

describe("monitorEventLoop (in process)", () => {
  it("validates its options eagerly", () => {
    assert.throws(
      () => monitorEventLoop({ threshold: 0 }),
      /Expected `threshold` to be a number from 1 and up, got 0 \(number\)/,
    );
    assert.throws(
      () => monitorEventLoop({ onBlock: 1 as never }),
      /Expected `onBlock` to be a function/,
    );
    assert.throws(
      () => monitorEventLoop({ signal: {} as never }),
      /Expected `signal` to be an AbortSignal/,
    );
  });

  it("stops idempotently, and when its signal aborts", async () => {
    const monitor = monitorEventLoop({ threshold: 1_000, onBlock: () => {} });
    const stopped = monitor.stop();
    assert.equal(monitor.stop(), stopped);
    await stopped;
    const controller = new AbortController();
    const other = monitorEventLoop({
      threshold: 1_000,
      onBlock: () => {},
      signal: controller.signal,
    });
    controller.abort();
    await other.stop();
    assert.equal(other.blocks, 0);
  });

  it("formats a report like a stack trace", () => {
    const report: BlockReport = {
      duration: 312,
      startedAt: 0,
      threshold: 100,
      stack: "captured",
      frames: [
        { function: "parseAll", url: "file:///app/parse.js", line: 41, column: 11 },
        { function: "", url: "file:///app/main.js", line: 12, column: 3 },
      ],
      task: { id: 7, name: "parse", path: ["main", "crawler", "parse"] },
    };
    assert.equal(
      formatBlockReport(report),
      [
        "aiokit: the event loop was blocked for 312 ms (threshold 100 ms) in task main > crawler > parse (#7)",
        "    at parseAll (file:///app/parse.js:41:11)",
        "    at file:///app/main.js:12:3",
      ].join("\n"),
    );
    assert.match(
      formatBlockReport({ ...report, stack: "ended", frames: [] }),
      /ended before its stack could be read/,
    );
  });
});
