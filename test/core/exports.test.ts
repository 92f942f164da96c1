/** The public names of each entry point: a contract. Changing this list is a decision, not an accident. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as core from "../../src/index.js";
import * as testing from "../../src/testing/index.js";

const coreNames = [
  "CancelledError",
  "Task",
  "TaskGroup",
  "TaskGroupError",
  "TimeoutError",
  "asCompleted",
  "gather",
  "getClock",
  "isCancellation",
  "moveOnAfter",
  "moveOnAt",
  "now",
  "race",
  "realClock",
  "setClock",
  "shield",
  "sleep",
  "taskGroup",
  "timeout",
  "timeoutAt",
  "wait",
];

describe("public exports", () => {
  it("aiokit exports at least the core contract", () => {
    const names = Object.keys(core);
    for (const name of coreNames) assert.ok(names.includes(name), `aiokit does not export ${name}`);
  });

  it("aiokit/testing exports the virtual clock and the clock hooks", () => {
    assert.deepEqual(Object.keys(testing).sort(), [
      "VirtualClock",
      "getClock",
      "realClock",
      "setClock",
      "waitIdle",
      "withVirtualClock",
    ]);
  });

  it("aiokit keeps the clock hooks as aliases of aiokit/testing's until 0.3.0", () => {
    assert.equal(core.getClock, testing.getClock);
    assert.equal(core.setClock, testing.setClock);
    assert.equal(core.realClock, testing.realClock);
  });
});
