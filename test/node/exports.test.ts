import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as node from "../../src/node/index.js";

describe("aiokit/node exports", () => {
  it("lists exactly its public names", () => {
    assert.deepEqual(Object.keys(node).sort(), [
      "TaskTreeUnavailableError",
      "WorkerPool",
      "currentTask",
      "debugModeReady",
      "debugOptionsFromEnv",
      "defaultWorkerPool",
      "dumpTasks",
      "enableDebugMode",
      "enableTaskTracking",
      "formatBlockReport",
      "formatBlockSummary",
      "formatLeakReport",
      "formatTaskTree",
      "isTaskTracking",
      "jobSignal",
      "leakReport",
      "monitorEventLoop",
      "readDebugReport",
      "registerUrl",
      "requestTaskTree",
      "run",
      "serveTaskTree",
      "summarizeBlocks",
      "taskTreeSocketPath",
      "toWorker",
      "transfer",
    ]);
  });
});
