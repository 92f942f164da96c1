import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("../fixtures/stream-memory.js", import.meta.url));

describe("stream memory", () => {
  it("maps a lazy 10,000,000-item source with concurrency 64 in flat memory (peak RSS < 100 MB)", () => {
    // A small heap keeps it honest: a leak of a few bytes per item would not fit.
    const out = execFileSync(process.execPath, ["--max-old-space-size=48", fixture, "--run"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      count: number;
      maxAhead: number;
      peakMb: number;
      ms: number;
    };
    assert.equal(result.count, 10_000_000);
    assert.ok(result.peakMb < 100, `peak RSS ${result.peakMb.toFixed(1)} MB`);
    // The consumer pauses now and then, so the window fills: 64 items in the
    // stage plus the one on its way to the loop body (counted in the body).
    assert.ok(result.maxAhead >= 64, `the window never filled (${result.maxAhead})`);
    assert.ok(
      result.maxAhead <= 65,
      `the source ran ${result.maxAhead} items ahead of the consumer`,
    );
  });
});
