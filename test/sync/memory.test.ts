/**
 * "1,000,000 waiters on an Event that are aborted one by one leave nothing
 * behind (heap returns to baseline)" (issue 3).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Event } from "../../src/index.js";
import type { EventMemoryResult } from "./fixtures/event-memory.js";
import { listeners } from "./helpers.js";

const fixture = fileURLToPath(new URL("./fixtures/event-memory.js", import.meta.url));
const noop = (): void => {};

describe("Event memory", () => {
  it("1,000,000 waiters aborted one by one leave nothing behind", async () => {
    // In a child process: node:test's own promise tracking would swamp the figures.
    const N = 1_000_000;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--expose-gc", fixture, "run", String(N)],
      { maxBuffer: 1024 * 1024 },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as EventMemoryResult;
    assert.equal(result.waitersAtPeak, N);
    assert.equal(result.waitersAtHalf, N / 2, "each abort removed its waiter at once");
    assert.equal(result.waitersAfter, 0);
    assert.equal(result.listenersAfter, 0, "every abort listener was removed");
    assert.equal(result.rejected, N);
    const grew = result.peakMb - result.baseMb;
    const left = result.afterMb - result.baseMb;
    assert.ok(grew > 100, `the waiters took memory (${grew.toFixed(0)} MB), so a leak would show`);
    assert.ok(
      left < 5,
      `heap back to its baseline: ${left.toFixed(1)} MB left of ${grew.toFixed(0)} MB`,
    );
  });

  it("20,000 waiters with real AbortControllers, aborted one by one, leave no listener and no waiter", async () => {
    const N = 20_000;
    const event = new Event();
    const controllers = Array.from({ length: N }, () => new AbortController());
    const waits = controllers.map((c) => event.wait({ signal: c.signal }).then(noop, noop));
    for (const controller of controllers) {
      assert.equal(listeners(controller.signal), 1);
      controller.abort();
      assert.equal(listeners(controller.signal), 0);
    }
    assert.equal(event.statistics().waiting, 0);
    await Promise.all(waits);
  });
});
