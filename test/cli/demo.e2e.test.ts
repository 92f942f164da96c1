/** `aiokit demo --json` (what `npm start` shows) runs end to end and its figures make sense. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));

describe("aiokit demo", () => {
  it("measures the workflows and leaks no connection", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, "demo", "--json"], {
      timeout: 120_000,
    });
    const figures = JSON.parse(stdout) as {
      concurrency: { speedup: number; requests: number };
      resources: {
        openAfterClose: number;
        created: number;
        destroyed: number;
        cancelledSiblings: number;
      };
      streams: {
        records: number;
        batches: number;
        streamPeakHeapMb: number;
        materializedPeakHeapMb: number;
      };
      decisionTree: {
        blocking: { durationMs: number; frames: string[] } | undefined;
        jobs: number;
      };
    };
    assert.equal(figures.concurrency.requests, 200);
    assert.ok(figures.concurrency.speedup > 5, `speed-up ${figures.concurrency.speedup}`);
    assert.equal(figures.resources.openAfterClose, 0);
    assert.equal(figures.resources.created, figures.resources.destroyed);
    assert.ok(figures.resources.cancelledSiblings > 0);
    assert.equal(figures.streams.batches, 1_000);
    assert.ok(figures.streams.streamPeakHeapMb < figures.streams.materializedPeakHeapMb / 3);
    // The blocking call is caught in the demo's own function, below Node's crypto frames.
    const blocking = figures.decisionTree.blocking;
    assert.ok(blocking !== undefined, "the blocking detector saw the block");
    assert.ok(blocking.durationMs >= 50);
    assert.ok(
      blocking.frames.some((f) => f.startsWith("hashPasswordsOnTheEventLoop ")),
      blocking.frames.join("\n"),
    );
  });

  it("--help and bad options", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [cli, "demo", "--help"]);
    assert.match(stdout, /Usage: aiokit demo/);
    await assert.rejects(
      run(process.execPath, [cli, "demo", "--nope"]),
      (e: { code?: number }) => e.code === 2,
    );
    await assert.rejects(
      run(process.execPath, [cli, "frobnicate"]),
      (e: { code?: number }) => e.code === 2,
    );
    const version = await run(process.execPath, [cli, "--version"]);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});
