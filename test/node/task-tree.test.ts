import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import fc from "fast-check";
import { sleep, TaskGroup, taskGroup } from "../../src/index.js";
import {
  currentTask,
  dumpTasks,
  enableTaskTracking,
  formatLeakReport,
  formatTaskTree,
  isTaskTracking,
  leakReport,
  type TaskTreeNode,
} from "../../src/node/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

/** name/state pairs, nested, for comparing trees without ids and ages. */
function shape(nodes: readonly TaskTreeNode[]): unknown[] {
  return nodes.map((n) => {
    const label = `${n.kind} ${n.name} ${n.state}`;
    return n.children.length === 0 ? label : [label, shape(n.children)];
  });
}

function never(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

describe("task tree", () => {
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    stop = undefined;
  });
  after(() => assert.equal(isTaskTracking(), false));

  it("is empty and costs nothing when tracking is off", async () => {
    assert.equal(isTaskTracking(), false);
    await taskGroup(async (tg) => {
      tg.spawn(() => sleep(0));
      assert.deepEqual(dumpTasks(), []);
      assert.equal(currentTask(), undefined);
    });
    assert.equal(formatTaskTree(), "(no tasks)");
  });

  it("nests groups under the task that created them, whichever signal they were given", async () => {
    stop = enableTaskTracking();
    const outer = new AbortController();
    let tree: TaskTreeNode[] = [];
    await taskGroup(
      async (tg) => {
        tg.spawn(
          async (signal) => {
            // Given the task's own signal.
            await taskGroup(
              async (inner) => {
                inner.spawn((s) => never(s), { name: "leaf-1" });
                // Given the group's signal, inside the task: still the task's child.
                await using nested = new TaskGroup({ signal: tg.signal, name: "nested" });
                nested.spawn((s) => never(s), { name: "leaf-2" });
                await waitIdle();
                tree = dumpTasks();
                tg.cancel();
              },
              { signal, name: "inner" },
            );
          },
          { name: "parent" },
        );
        tg.spawn((s) => never(s), { name: "sibling" });
      },
      { signal: outer.signal, name: "outer" },
    );
    assert.deepEqual(shape(tree), [
      [
        "group outer closing",
        [
          [
            "task parent pending",
            [
              ["group inner open", ["task leaf-1 pending"]],
              ["group nested open", ["task leaf-2 pending"]],
            ],
          ],
          "task sibling pending",
        ],
      ],
    ]);
    assert.deepEqual(dumpTasks(), []);
  });

  it("puts a group given another group's signal under that group", async () => {
    stop = enableTaskTracking();
    await using a = new TaskGroup({ name: "a" });
    await using b = new TaskGroup({ name: "b", signal: a.signal });
    b.spawn(() => sleep(0), { name: "t" });
    assert.deepEqual(shape(dumpTasks()), [
      ["group a open", [["group b open", ["task t pending"]]]],
    ]);
  });

  it("shows cancelling tasks and groups, and the age of each", async () => {
    await withVirtualClock(async (clock) => {
      stop = enableTaskTracking();
      await using tg = new TaskGroup({ name: "g" });
      const slow = tg.spawn(
        async (s) => {
          try {
            await never(s);
          } finally {
            await sleep(50);
          }
        },
        { name: "slow" },
      );
      await clock.advance(1_500);
      tg.spawn((s) => never(s), { name: "young" });
      slow.cancel();
      const text = formatTaskTree();
      assert.equal(
        text,
        [
          'TaskGroup "g" open · 1.5s',
          `├─ Task "slow" #${slow.id} cancelling · 1.5s`,
          `└─ Task "young" #${slow.id + 1} pending · 0ms`,
        ].join("\n"),
      );
      tg.cancel();
      await waitIdle();
      assert.match(formatTaskTree(), /^TaskGroup "g" cancelling/);
      await clock.advance(50);
    });
  });

  it("knows the current task across awaits", async () => {
    stop = enableTaskTracking();
    const seen: (string | undefined)[] = [];
    await taskGroup(
      async (tg) => {
        tg.spawn(
          async () => {
            seen.push(currentTask()?.path.join(" > "));
            await sleep(1);
            seen.push(currentTask()?.name);
          },
          { name: "worker" },
        );
      },
      { name: "main" },
    );
    assert.deepEqual(seen, ["main > worker", "worker"]);
    assert.equal(currentTask(), undefined);
  });

  it("nests enablers and restores the core's hooks when the last one stops", () => {
    const first = enableTaskTracking();
    const second = enableTaskTracking();
    first();
    first(); // idempotent
    assert.equal(isTaskTracking(), true);
    second();
    assert.equal(isTaskTracking(), false);
  });

  it("captures where tasks were spawned only when asked", async () => {
    stop = enableTaskTracking({ captureStacks: true });
    await using tg = new TaskGroup({ name: "g" });
    tg.spawn(() => sleep(0), { name: "t" });
    const [group] = dumpTasks();
    assert.match(group?.spawnedAt ?? "", /task-tree\.test\.js:\d+:\d+$/);
    assert.match(group?.children[0]?.spawnedAt ?? "", /task-tree\.test\.js:\d+:\d+$/);
    stop();
    stop = enableTaskTracking();
    await using tg2 = new TaskGroup({ name: "g2" });
    tg2.spawn(() => sleep(0));
    assert.equal(dumpTasks().at(-1)?.spawnedAt, undefined);
  });
});

describe("leak report", () => {
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    stop = undefined;
  });

  it("lists pending tasks and failures of groups nobody joined, with their spawn sites", async () => {
    stop = enableTaskTracking({ captureStacks: true });
    const leaky = new TaskGroup({ name: "leaky" });
    const controller = new AbortController();
    leaky.spawn(() => never(controller.signal), { name: "forgotten" });
    leaky.spawn(() => Promise.reject(new Error("nobody saw me")), { name: "doomed" });
    await waitIdle();
    const report = leakReport();
    assert.deepEqual(
      report.pending.map((t) => [t.path, t.state]),
      [[["leaky", "forgotten"], "cancelling"]],
    );
    assert.deepEqual(
      report.unobservedFailures.map((t) => t.name),
      ["doomed"],
    );
    assert.match(report.unobservedFailures[0]?.error ?? "", /^Error: nobody saw me\n\s+at /);
    assert.match(report.pending[0]?.spawnedAt ?? "", /task-tree\.test\.js:\d+:\d+$/);
    const text = formatLeakReport(report);
    assert.match(
      text,
      /^aiokit: 1 task was still pending:\n {2}leaky > forgotten \(#\d+\) cancelling for \d+ms, spawned at .*task-tree\.test\.js/,
    );
    assert.match(
      text,
      /1 task failed and nobody saw the error[^\n]*\n {2}leaky > doomed .*\n\s+Error: nobody saw me/,
    );
    // Joining the group delivers the error: nothing is left to report.
    controller.abort();
    await assert.rejects(leaky.join(), { name: "TaskGroupError" });
    assert.deepEqual(leakReport(), { pending: [], unobservedFailures: [] });
    assert.equal(formatLeakReport(), "");
  });

  it("is empty when tracking is off", () => {
    assert.deepEqual(leakReport(), { pending: [], unobservedFailures: [] });
  });
});

describe("task tree (property)", () => {
  it("holds exactly the pending tasks while running, and nothing once all settle", async () => {
    type Plan = { delay: number; fail: boolean; children: Plan[] };
    const plan: fc.Memo<Plan> = fc.memo((depth) =>
      fc.record({
        delay: fc.integer({ min: 0, max: 20 }),
        fail: fc.boolean(),
        children: depth <= 1 ? fc.constant([]) : fc.array(plan(depth - 1), { maxLength: 3 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(plan(3), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 25 }),
        async (plans, probeAt) => {
          const stopTracking = enableTaskTracking();
          try {
            await withVirtualClock(async (clock) => {
              const pending = new Set<number>();
              let started = 0;
              const runPlans = (tg: TaskGroup, list: Plan[]): void => {
                for (const p of list) {
                  tg.spawn(async (signal) => {
                    const id = currentTask()?.id ?? -1;
                    pending.add(id);
                    started++;
                    try {
                      if (p.children.length > 0) {
                        await taskGroup((inner) => runPlans(inner, p.children), { signal });
                      }
                      await sleep(p.delay, { signal });
                      if (p.fail) throw new Error("planned");
                    } finally {
                      pending.delete(id);
                    }
                  });
                }
              };
              const done = taskGroup((tg) => runPlans(tg, plans)).catch(() => {});
              await clock.advance(probeAt);
              const ids: number[] = [];
              const walk = (n: TaskTreeNode): void => {
                if (n.kind === "task" && n.state !== "rejected") ids.push(n.id);
                n.children.forEach(walk);
              };
              dumpTasks().forEach(walk);
              assert.deepEqual(ids.sort(), [...pending].sort());
              const count = (list: Plan[]): number =>
                list.reduce((n, p) => n + 1 + count(p.children), 0);
              assert.equal(started, count(plans));
              await clock.runAll();
              await done;
              assert.deepEqual(dumpTasks(), []);
            });
          } finally {
            stopTracking();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
