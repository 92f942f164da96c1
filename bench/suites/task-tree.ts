/**
 * The cost of task tracking: 1,000,000 tasks spawned into one group with
 * tracking off (the core pays one `undefined` check per event), on, and on
 * with spawn stacks (debug mode).
 */
import { taskGroup } from "../../src/index.js";
import { enableTaskTracking } from "../../src/node/index.js";
import type { BenchSuite } from "../harness.js";

const TASKS = 1_000_000;

async function spawnAll(): Promise<void> {
  await taskGroup(async (tg) => {
    for (let i = 0; i < TASKS; i++) tg.spawn(() => i);
  });
}

const suite: BenchSuite = {
  title: "Task tracking: 1M tasks spawned and settled",
  target: "off costs nothing measurable (one undefined check per event)",
  cases: [
    { name: "tracking off", baseline: true, run: spawnAll },
    {
      name: "tracking on",
      async run() {
        const stop = enableTaskTracking();
        await spawnAll();
        stop();
      },
    },
    {
      name: "tracking on + stacks",
      async run() {
        const stop = enableTaskTracking({ captureStacks: true });
        await spawnAll();
        stop();
      },
    },
  ],
};

export default suite;
