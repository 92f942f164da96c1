import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as aiokit from "../../src/index.js";

describe("exports of issue 3", () => {
  it("exports every synchronization primitive, queue and error class by its contract name", () => {
    const classes = [
      "Lock",
      "Semaphore",
      "BoundedSemaphore",
      "CapacityLimiter",
      "Event",
      "Condition",
      "Barrier",
      "BrokenBarrierError",
      "Queue",
      "PriorityQueue",
      "LifoQueue",
      "QueueFull",
      "QueueEmpty",
      "QueueShutDown",
    ];
    const exported = aiokit as unknown as Record<string, unknown>;
    for (const name of classes) {
      assert.equal(typeof exported[name], "function", name);
      assert.equal((exported[name] as { name: string }).name, name);
    }
    for (const internal of ["WaitQueue", "createPermit", "naturalOrder", "refuseWait"]) {
      assert.equal(internal in exported, false, `${internal} stays internal`);
    }
  });

  it("error classes work with instanceof and carry their class name", () => {
    const errors = [
      new aiokit.QueueFull(1),
      new aiokit.QueueEmpty(),
      new aiokit.QueueShutDown(),
      new aiokit.BrokenBarrierError(),
    ];
    for (const error of errors) {
      assert.ok(error instanceof Error);
      assert.equal(error.name, error.constructor.name);
      assert.doesNotMatch(error.message, /\.$/, "no trailing period");
    }
    const cause = new Error("why");
    assert.equal(new aiokit.QueueShutDown("m", { cause }).cause, cause);
  });
});
