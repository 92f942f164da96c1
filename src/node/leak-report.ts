/**
 * The leak report: tasks still pending and failures nobody observed, with
 * where they were spawned — asyncio's "Task was destroyed but it is
 * pending", done right.
 * @module
 */
import { inspect } from "node:util";
import { now } from "../clock.js";
import {
  formatAge,
  getTracker,
  nameOf,
  spawnSite,
  stateOf,
  type TrackedNode,
} from "./task-tree.js";

/** One task of a {@link LeakReport}. */
export interface LeakedTask {
  readonly id: number;
  readonly name: string;
  /** Names of its enclosing groups and tasks, outermost first, then its own. */
  readonly path: readonly string[];
  readonly state: string;
  readonly ageMs: number;
  /** Where it was spawned (`file:line:column`), when stacks are captured (debug mode). */
  readonly spawnedAt?: string;
  /** For a failed task: its error, formatted with its stack. */
  readonly error?: string;
}

/** What {@link leakReport} returns. */
export interface LeakReport {
  /** Tasks that have not settled. At exit, nothing will ever settle them. */
  readonly pending: readonly LeakedTask[];
  /**
   * Tasks that failed in a group that never finished, so their error never
   * reached anyone (a group delivers its tasks' errors when it is joined).
   */
  readonly unobservedFailures: readonly LeakedTask[];
}

/**
 * Lists the tasks still pending and the failures nobody observed, from task
 * tracking (on in debug mode: `aiokit/node/register` prints this report at
 * exit). Empty when tracking is off.
 *
 * @example
 * ```ts
 * import { enableTaskTracking, formatLeakReport, leakReport } from "aiokit/node";
 * enableTaskTracking({ captureStacks: true });
 * process.on("exit", () => {
 *   const report = leakReport();
 *   if (report.pending.length > 0) console.error(formatLeakReport(report));
 * });
 * ```
 */
export function leakReport(): LeakReport {
  const tracker = getTracker();
  const pending: LeakedTask[] = [];
  const unobservedFailures: LeakedTask[] = [];
  if (tracker === undefined) return { pending, unobservedFailures };
  const at = now();
  for (const node of tracker.nodes()) {
    if (node.kind !== "task") continue;
    const path: string[] = [];
    for (let n: TrackedNode | undefined = node; n !== undefined; n = n.parent) {
      path.unshift(nameOf(n) || `TaskGroup #${n.id}`);
    }
    const spawnedAt = spawnSite(node);
    const entry = {
      id: node.id,
      name: nameOf(node),
      path,
      state: stateOf(node),
      ageMs: Math.max(0, Math.round(at - node.created)),
      ...(spawnedAt === undefined ? {} : { spawnedAt }),
    };
    if (node.failed) {
      unobservedFailures.push({
        ...entry,
        ...(node.error === undefined ? {} : { error: inspect(node.error.value) }),
      });
    } else pending.push(entry);
  }
  return { pending, unobservedFailures };
}

/**
 * Formats a {@link LeakReport} for people; an empty string when there is
 * nothing to report.
 *
 * @example
 * ```ts
 * import { formatLeakReport } from "aiokit/node";
 * const text = formatLeakReport();
 * if (text !== "") process.stderr.write(`${text}\n`);
 * ```
 */
export function formatLeakReport(report: LeakReport = leakReport()): string {
  const lines: string[] = [];
  const describeTask = (task: LeakedTask): string => {
    const where = task.spawnedAt === undefined ? "" : `, spawned at ${task.spawnedAt}`;
    return `  ${task.path.join(" > ")} (#${task.id}) ${task.state} for ${formatAge(task.ageMs)}${where}`;
  };
  if (report.pending.length > 0) {
    const n = report.pending.length;
    lines.push(`aiokit: ${n} task${n === 1 ? " was" : "s were"} still pending:`);
    for (const task of report.pending) lines.push(describeTask(task));
  }
  if (report.unobservedFailures.length > 0) {
    const n = report.unobservedFailures.length;
    lines.push(
      `aiokit: ${n} task${n === 1 ? "" : "s"} failed and nobody saw the error (the group was never joined):`,
    );
    for (const task of report.unobservedFailures) {
      lines.push(describeTask(task));
      if (task.error !== undefined) {
        lines.push(...task.error.split("\n").map((line) => `      ${line}`));
      }
    }
  }
  if (lines.length > 0 && !report.pending.some((t) => t.spawnedAt !== undefined)) {
    if (report.unobservedFailures.every((t) => t.spawnedAt === undefined)) {
      lines.push("  (run with aiokit/node/register to see where each task was spawned)");
    }
  }
  return lines.join("\n");
}
