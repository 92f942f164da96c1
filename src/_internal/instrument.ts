/**
 * Hooks through which `aiokit/node` observes tasks and groups (the live task
 * tree, the leak report). Off by default: the core pays one `undefined` check
 * per event.
 */
import type { Task } from "../task/task.js";
import type { TaskGroup } from "../task/task-group.js";

export interface Instrument {
  /** A group was created; `parent` is the signal it was given (a task's or a group's, if any). */
  groupCreated(group: TaskGroup, parent: AbortSignal | undefined): void;
  groupFinished(group: TaskGroup): void;
  taskSpawned(task: Task<unknown>, group: TaskGroup): void;
  taskSettled(task: Task<unknown>): void;
  /** A task created its own signal (lazily), so a group given that signal can name the task as its parent. */
  taskSignalCreated(task: Task<unknown>, signal: AbortSignal): void;
  /**
   * Runs a task's function: the instrument may wrap the call (for example in an
   * AsyncLocalStorage context, so it knows which task is running after awaits).
   */
  runTask<R>(task: Task<unknown>, start: () => R): R;
}

export let instrument: Instrument | undefined;

/** Installs (or, with undefined, removes) the instrument; returns the previous one. */
export function setInstrument(next: Instrument | undefined): Instrument | undefined {
  const previous = instrument;
  instrument = next;
  return previous;
}
