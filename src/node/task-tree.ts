/**
 * The live task tree: every aiokit `Task` and `TaskGroup` that is running,
 * with its parent, state and age — what `dumpTasks()`, `formatTaskTree()`,
 * the leak report and `aiokit ps` show. Off until {@link enableTaskTracking};
 * the core then pays one `undefined` check per event.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { fileURLToPath } from "node:url";
import { type Instrument, instrument, setInstrument } from "../_internal/instrument.js";
import { now } from "../clock.js";
import type { Task } from "../task/task.js";
import type { TaskGroup } from "../task/task-group.js";

/** One task or group of the tree, as {@link dumpTasks} returns it: a plain, JSON-safe snapshot. */
export interface TaskTreeNode {
  readonly kind: "task" | "group";
  /** The task's id (`task.id`), or a number the tracker gives each group. */
  readonly id: number;
  /** The task's name (`Task-<n>` by default), or the group's (empty when it has none). */
  readonly name: string;
  /**
   * A task: `"pending"`, `"cancelling"` (cancel requested, still running), or
   * how it settled (only failed tasks stay in the tree, see the leak report).
   * A group: `"open"`, `"closing"` (waiting for its tasks), `"cancelling"` or `"finished"`.
   */
  readonly state: string;
  /** Milliseconds since the task was spawned or the group created. */
  readonly ageMs: number;
  /** Where it was spawned or created (`file:line:column`), when stacks are captured (debug mode). */
  readonly spawnedAt?: string;
  readonly children: readonly TaskTreeNode[];
}

/** Options of {@link enableTaskTracking}. */
export interface TaskTrackingOptions {
  /**
   * Capture the stack where each task is spawned and each group created, for
   * `spawnedAt` and the leak report. Costs a few microseconds per task; on in
   * debug mode (`aiokit/node/register`). Default false.
   */
  readonly captureStacks?: boolean;
}

/** The current task as blocking reports name it. */
export interface TaskRef {
  readonly id: number;
  readonly name: string;
  /** Names from the root group down to the task: `["main", "crawler", "fetch a"]`. */
  readonly path: readonly string[];
}

/** @internal A tracked task or group. */
export interface TrackedNode {
  readonly kind: "task" | "group";
  readonly id: number;
  readonly target: Task<unknown> | TaskGroup;
  parent: TrackedNode | undefined;
  readonly children: Set<TrackedNode>;
  readonly created: number;
  readonly stack: { stack?: string } | undefined;
  /** A failed task kept until its group finishes (then its error was delivered). */
  failed: boolean;
  /** A failed task's error, once known (for the leak report). */
  error?: { readonly value: unknown };
}

// aiokit's own modules (dist/ or the compiled src/): frames there are not where the user spawned.
const OWN_URL = new URL("../", import.meta.url);
const OWN_PREFIXES = [OWN_URL.href, fileURLToPath(OWN_URL)];

let nextGroupId = 1;
const STACK_FRAMES = 10;

/** @internal The instrument behind task tracking. */
export class TaskTracker implements Instrument<Task<unknown>, TaskGroup> {
  readonly current = new AsyncLocalStorage<TrackedNode>();
  readonly #nodes = new Map<Task<unknown> | TaskGroup, TrackedNode>();
  readonly #bySignal = new WeakMap<AbortSignal, TrackedNode>();
  readonly #roots = new Set<TrackedNode>();
  captureStacks: boolean;

  constructor(captureStacks: boolean) {
    this.captureStacks = captureStacks;
  }

  groupCreated(group: TaskGroup, parentSignal: AbortSignal | undefined): void {
    const node = this.#add("group", nextGroupId++, group, this.#parentFor(parentSignal));
    this.#bySignal.set(group.signal, node);
  }

  groupFinished(group: TaskGroup): void {
    const node = this.#nodes.get(group);
    if (node === undefined) return;
    // The group delivered its tasks' errors (TaskGroupError): they are observed.
    for (const child of node.children) if (child.failed) this.#remove(child);
    if (node.children.size === 0) this.#remove(node);
  }

  taskSpawned(task: Task<unknown>, group: TaskGroup): void {
    this.#add("task", task.id, task, this.#nodeOf(group));
  }

  taskSettled(task: Task<unknown>): void {
    const node = this.#nodes.get(task);
    if (node === undefined) return;
    if (task.state === "rejected") {
      node.failed = true;
      task.then(undefined, (error: unknown) => {
        node.error = { value: error };
      });
      return;
    }
    this.#remove(node);
  }

  taskSignalCreated(task: Task<unknown>, signal: AbortSignal): void {
    const node = this.#nodes.get(task);
    if (node !== undefined) this.#bySignal.set(signal, node);
  }

  runTask<R>(task: Task<unknown>, start: () => R): R {
    const node = this.#nodes.get(task);
    return node === undefined ? start() : this.current.run(node, start);
  }

  /** Snapshots of the roots, oldest first. */
  dump(): TaskTreeNode[] {
    const at = now();
    return [...this.#roots].map((node) => snapshot(node, at));
  }

  /** Every tracked node, depth first. */
  *nodes(): Iterable<TrackedNode> {
    function* walk(node: TrackedNode): Iterable<TrackedNode> {
      yield node;
      for (const child of node.children) yield* walk(child);
    }
    for (const root of this.#roots) yield* walk(root);
  }

  /** The task running now (across awaits), if any. */
  currentTask(): TaskRef | undefined {
    const node = this.current.getStore();
    if (node === undefined) return undefined;
    const path: string[] = [];
    for (let n: TrackedNode | undefined = node; n !== undefined; n = n.parent) {
      path.unshift(nameOf(n));
    }
    return { id: node.id, name: nameOf(node), path };
  }

  #parentFor(signal: AbortSignal | undefined): TrackedNode | undefined {
    const bySignal = signal === undefined ? undefined : this.#bySignal.get(signal);
    const current = this.current.getStore();
    if (current === undefined) return bySignal;
    // A group created inside a task belongs to that task, whether it was given
    // the task's signal or its group's; an unrelated signal names its own owner.
    if (bySignal === undefined || isAncestorOrSelf(bySignal, current)) return current;
    return bySignal;
  }

  #nodeOf(group: TaskGroup): TrackedNode {
    // A group created before tracking started: track it from now on, as a root.
    return this.#nodes.get(group) ?? this.#add("group", nextGroupId++, group, undefined, false);
  }

  #add(
    kind: "task" | "group",
    id: number,
    target: Task<unknown> | TaskGroup,
    parent: TrackedNode | undefined,
    withStack = this.captureStacks,
  ): TrackedNode {
    let stack: { stack?: string } | undefined;
    if (withStack) {
      // The spawn site is the first frame outside aiokit: a few frames are
      // enough, and each one costs.
      // (new Error is cheaper than Error.captureStackTrace; the stack is formatted only when read.)
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = STACK_FRAMES;
      stack = new Error();
      Error.stackTraceLimit = limit;
    }
    const node: TrackedNode = {
      kind,
      id,
      target,
      parent,
      children: new Set(),
      created: now(),
      stack,
      failed: false,
    };
    this.#nodes.set(target, node);
    if (parent === undefined) this.#roots.add(node);
    else parent.children.add(node);
    return node;
  }

  #remove(node: TrackedNode): void {
    this.#nodes.delete(node.target);
    const parent = node.parent;
    if (parent === undefined) this.#roots.delete(node);
    else {
      parent.children.delete(node);
      // A finished group stays while it still holds unobserved failures.
      if (
        parent.kind === "group" &&
        parent.children.size === 0 &&
        (parent.target as TaskGroup).state === "finished"
      ) {
        this.#remove(parent);
      }
    }
    // Children outlive a task only if they were never joined: keep them, as roots.
    for (const child of node.children) {
      child.parent = undefined;
      this.#roots.add(child);
    }
    node.children.clear();
  }
}

function isAncestorOrSelf(ancestor: TrackedNode, node: TrackedNode): boolean {
  for (let n: TrackedNode | undefined = node; n !== undefined; n = n.parent) {
    if (n === ancestor) return true;
  }
  return false;
}

/** @internal */
export function nameOf(node: TrackedNode): string {
  return node.target.name ?? "";
}

/** @internal */
export function stateOf(node: TrackedNode): string {
  if (node.kind === "task") {
    const task = node.target as Task<unknown>;
    if (task.state !== "pending") return task.state;
    const group = node.parent?.target as TaskGroup | undefined;
    return task.cancelRequested || group?.cancelled === true ? "cancelling" : "pending";
  }
  const group = node.target as TaskGroup;
  return group.state !== "finished" && group.cancelled ? "cancelling" : group.state;
}

/** @internal The first frame outside aiokit of a captured stack: `file:line:column`. */
export function spawnSite(node: TrackedNode): string | undefined {
  const stack = node.stack?.stack;
  if (stack === undefined) return undefined;
  for (const line of stack.split("\n").slice(1)) {
    if (OWN_PREFIXES.some((prefix) => line.includes(prefix)) || line.includes("node:internal")) {
      continue;
    }
    const match = /\(([^()]+)\)\s*$/.exec(line) ?? /at (.+)$/.exec(line);
    return match?.[1]?.trim();
  }
  return undefined;
}

function snapshot(node: TrackedNode, at: number): TaskTreeNode {
  const spawnedAt = spawnSite(node);
  const children = [...node.children].map((child) => snapshot(child, at));
  return {
    kind: node.kind,
    id: node.id,
    name: nameOf(node),
    state: stateOf(node),
    ageMs: Math.max(0, Math.round(at - node.created)),
    ...(spawnedAt === undefined ? {} : { spawnedAt }),
    children,
  };
}

let tracker: TaskTracker | undefined;
let enablers = 0;
let stackEnablers = 0;
let previous: Instrument | undefined;

/** @internal The tracker, while tracking is on. */
export function getTracker(): TaskTracker | undefined {
  return tracker;
}

/**
 * Turns on task tracking, so {@link dumpTasks}, {@link formatTaskTree}, the
 * leak report and `aiokit ps` can see every task and group created from now
 * on. Returns a function that turns it off again; calls nest (tracking stays
 * on until every enabler has turned it off). `aiokit/node/register` and
 * `run()` turn it on for you.
 *
 * Note: tracking keeps each running task and unfinished group in a map (a
 * group never joined stays there: that is the leak it reports). Tasks and
 * groups created before tracking started appear once they spawn a task.
 *
 * @example
 * ```ts
 * import { enableTaskTracking, formatTaskTree } from "aiokit/node";
 * const stop = enableTaskTracking({ captureStacks: true });
 * // … later, from a debugging endpoint:
 * console.log(formatTaskTree());
 * stop();
 * ```
 */
export function enableTaskTracking(options: TaskTrackingOptions = {}): () => void {
  const stacks = options.captureStacks === true;
  if (tracker === undefined) {
    tracker = new TaskTracker(stacks);
    previous = setInstrument(tracker);
  }
  enablers++;
  if (stacks) {
    stackEnablers++;
    tracker.captureStacks = true;
  }
  let on = true;
  return () => {
    if (!on) return;
    on = false;
    if (stacks && --stackEnablers === 0 && tracker !== undefined) tracker.captureStacks = false;
    if (--enablers === 0) {
      if (instrument === tracker) setInstrument(previous);
      previous = undefined;
      tracker = undefined;
    }
  };
}

/**
 * True while task tracking is on.
 *
 * @example
 * ```ts
 * import { dumpTasks, isTaskTracking } from "aiokit/node";
 * if (!isTaskTracking()) console.warn("start with --import aiokit/node/register to see tasks");
 * console.log(dumpTasks());
 * ```
 */
export function isTaskTracking(): boolean {
  return tracker !== undefined;
}

/**
 * The live task tree: every running task and unfinished group, nested under
 * the group or task that owns it, oldest first. Empty unless tracking is on
 * ({@link enableTaskTracking}, `run()` or `aiokit/node/register`).
 *
 * @example
 * ```ts
 * import { dumpTasks } from "aiokit/node";
 * for (const root of dumpTasks()) console.log(root.name, root.state, root.children.length);
 * ```
 */
export function dumpTasks(): TaskTreeNode[] {
  return tracker?.dump() ?? [];
}

/**
 * The task running now (the one whose function, or code it awaited, is
 * executing), with the names of its groups; undefined outside tasks or when
 * tracking is off.
 *
 * @example
 * ```ts
 * import { currentTask } from "aiokit/node";
 * tg.spawn(async () => console.log(currentTask()?.path.join(" > ")), { name: "job" });
 * ```
 */
export function currentTask(): TaskRef | undefined {
  return tracker?.currentTask();
}

/**
 * Prints a task tree as `pstree` does: one line per task or group with its
 * state and age, children indented under their parent. Takes the tree of
 * {@link dumpTasks} (the default) or one read from another process with
 * `requestTaskTree()`.
 *
 * @example
 * ```ts
 * import { formatTaskTree } from "aiokit/node";
 * console.log(formatTaskTree());
 * // TaskGroup "crawler" closing · 2.1s
 * // ├─ Task "fetch a" #3 pending · 2.1s
 * // └─ Task "fetch b" #4 cancelling · 2.0s
 * ```
 */
export function formatTaskTree(tree: readonly TaskTreeNode[] = dumpTasks()): string {
  if (tree.length === 0) return "(no tasks)";
  const lines: string[] = [];
  const walk = (node: TaskTreeNode, prefix: string, branch: string, last: boolean): void => {
    lines.push(prefix + branch + formatNode(node));
    const childPrefix = prefix + (branch === "" ? "" : last ? "   " : "│  ");
    node.children.forEach((child, i) => {
      const isLast = i === node.children.length - 1;
      walk(child, childPrefix, isLast ? "└─ " : "├─ ", isLast);
    });
  };
  for (const root of tree) walk(root, "", "", true);
  return lines.join("\n");
}

function formatNode(node: TaskTreeNode): string {
  const label =
    node.kind === "task"
      ? `Task ${JSON.stringify(node.name)} #${node.id}`
      : node.name === ""
        ? `TaskGroup #${node.id}`
        : `TaskGroup ${JSON.stringify(node.name)}`;
  const where = node.spawnedAt === undefined ? "" : `  (${node.spawnedAt})`;
  return `${label} ${node.state} · ${formatAge(node.ageMs)}${where}`;
}

/** @internal `850ms`, `2.1s`, `3m05s`. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1_000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}
