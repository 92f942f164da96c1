/**
 * Property tests: random trees of tasks with random delays, failures and
 * cancellations, under the virtual clock. On every run the group's invariants
 * must hold: it settles only after every task settled (rule 2); its error holds
 * exactly the real failures, each once (rules 1 and 6), even when a task
 * awaits a failed sibling and rethrows its error; an outer abort is reported
 * with its reason (rule 3); nothing escapes as an unhandled rejection. Tasks
 * may spawn a follow-up from a callback on their own settling, the moment the
 * group may be about to finish.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { sleep, type Task, TaskGroupError, taskGroup } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

interface Node {
  readonly delay: number;
  readonly fails: boolean;
  readonly ignoresSignal: boolean;
  readonly cancelSelfAt: number | undefined;
  /** Awaits the previous sibling first (rethrowing its failure). */
  readonly awaitsPrevious: boolean;
  /** When it settles, a callback spawns this into the same group. */
  readonly followUp: Node | undefined;
  readonly children: readonly Node[];
}

function treeOf(depth: number): fc.Arbitrary<Node> {
  return fc.record({
    delay: fc.integer({ min: 0, max: 50 }),
    fails: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    ignoresSignal: fc.boolean(),
    cancelSelfAt: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    awaitsPrevious: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    followUp:
      depth === 0 ? fc.constant(undefined) : fc.option(treeOf(0), { nil: undefined, freq: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(treeOf(depth - 1), { maxLength: 3 }),
  });
}
const tree = treeOf(2);

const scenario = fc.record({
  roots: fc.array(tree, { minLength: 0, maxLength: 4 }),
  outerAbortAt: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
  groupCancelAt: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
});

/** Leaf errors of a (nested) TaskGroupError, in order. */
function flatten(error: unknown): unknown[] {
  return error instanceof TaskGroupError ? error.errors.flatMap(flatten) : [error];
}

describe("task group invariants on random task trees", () => {
  it("settle after every task, report each real failure once, honour outer aborts", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ roots, outerAbortAt, groupCancelAt }) => {
          await withVirtualClock(
            async () => {
              const running = new Set<number>();
              const failures: Error[] = [];
              let nextId = 0;
              const controller = new AbortController();
              let outerAborted = false;
              const reason = new Error("outer abort");

              const spawnNode = (
                tg: Parameters<Parameters<typeof taskGroup>[0]>[0],
                node: Node,
                previous?: Task<void>,
              ): Task<void> => {
                const id = nextId++;
                const task = tg.spawn(async (signal) => {
                  running.add(id);
                  try {
                    if (node.awaitsPrevious && previous !== undefined) await previous;
                    if (node.children.length > 0) {
                      await taskGroup(
                        (sub) => {
                          let last: Task<void> | undefined;
                          for (const child of node.children) last = spawnNode(sub, child, last);
                        },
                        { signal },
                      );
                    }
                    await sleep(node.delay, node.ignoresSignal ? {} : { signal });
                    if (node.fails) {
                      const error = new Error(`node ${id} failed`);
                      failures.push(error);
                      throw error;
                    }
                  } finally {
                    running.delete(id);
                  }
                });
                if (node.cancelSelfAt !== undefined) {
                  void sleep(node.cancelSelfAt).then(() => task.cancel());
                }
                const followUp = node.followUp;
                if (followUp !== undefined) {
                  const spawnFollowUp = (): void => {
                    spawnNode(tg, followUp);
                  };
                  task.then(spawnFollowUp, spawnFollowUp);
                }
                return task;
              };

              if (outerAbortAt !== undefined) {
                void sleep(outerAbortAt).then(() => {
                  outerAborted = true;
                  controller.abort(reason);
                });
              }
              let outcome: { ok: true } | { ok: false; error: unknown };
              try {
                await taskGroup(
                  (tg) => {
                    let last: Task<void> | undefined;
                    for (const root of roots) last = spawnNode(tg, root, last);
                    if (groupCancelAt !== undefined)
                      void sleep(groupCancelAt).then(() => tg.cancel());
                  },
                  { signal: controller.signal },
                );
                outcome = { ok: true };
              } catch (error) {
                outcome = { ok: false, error };
              }
              // Rule 2: nothing is still running when the group has settled.
              assert.equal(running.size, 0, "a task outlived its group");
              if (failures.length > 0) {
                // Rules 1 and 6: every real failure reported, once, through the group.
                assert.ok(
                  !outcome.ok && outcome.error instanceof TaskGroupError,
                  "expected a TaskGroupError",
                );
                const reported = flatten(outcome.error);
                assert.equal(reported.length, failures.length);
                assert.deepEqual(new Set(reported), new Set(failures));
              } else if (outerAborted) {
                // Rule 3 (when the abort came while the group was running).
                if (!outcome.ok) assert.equal(outcome.error, reason);
              } else {
                assert.ok(
                  outcome.ok,
                  `unexpected failure: ${String(!outcome.ok && outcome.error)}`,
                );
              }
            },
            { autoAdvance: true },
          );
        }),
        { numRuns: 1_500 },
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
