import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("../fixtures/fetch-engine.js", import.meta.url));

describe("aiokit fetch memory", () => {
  it("runs a lazy 1,000,000-line input in flat memory, never more than --concurrency at once", () => {
    // A small heap keeps it honest: a leak of 50 bytes a request would not fit.
    // (`npm run bench -- fetch-memory` runs 10,000,000 lines the same way.)
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=48", fixture, "--run", "1000000"],
      { encoding: "utf8", timeout: 120_000, env: { ...process.env, CONCURRENCY: "256" } },
    );
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      ok: number;
      failed: number;
      maxOutstanding: number;
      heapMb: number[];
    };
    assert.equal(result.ok, 1_000_000);
    assert.equal(result.failed, 0);
    assert.equal(result.heapMb.length, 10);
    // The heap after a full GC, from the first tenth of the input to the last.
    const growth = (result.heapMb.at(-1) as number) - (result.heapMb[0] as number);
    assert.ok(growth < 2, `the heap grew by ${growth.toFixed(1)} MB: ${result.heapMb.join(", ")}`);
    assert.ok(result.maxOutstanding <= 256, `${result.maxOutstanding} requests at once`);
    assert.ok(result.maxOutstanding >= 200, `only ${result.maxOutstanding} requests at once`);
  });
});
