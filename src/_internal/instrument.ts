/**
 * Hooks through which `aiokit/node` observes tasks and groups (the live task
 * tree, the leak report). Off by default: the core pays one `undefined` check
 * per event.
 *
 * This file imports nothing: task.ts and task-group.ts call the hooks with
 * themselves, and the instrument (src/node/task-tree.ts) names their classes
 * as `Instrument<Task<unknown>, TaskGroup>`. Typing the hooks by the core's
 * classes here would make an import circle (instrument → task → instrument).
 */

/** What the core tells an instrument; `T` is the task class, `G` the group class. */
export interface Instrument<T = object, G = object> {
  /** A group was created; `parent` is the signal it was given (a task's or a group's, if any). */
  groupCreated(group: G, parent: AbortSignal | undefined): void;
  groupFinished(group: G): void;
  taskSpawned(task: T, group: G): void;
  taskSettled(task: T): void;
  /** A task created its own signal (lazily), so a group given that signal can name the task as its parent. */
  taskSignalCreated(task: T, signal: AbortSignal): void;
  /**
   * Runs a task's function: the instrument may wrap the call (for example in an
   * AsyncLocalStorage context, so it knows which task is running after awaits).
   */
  runTask<R>(task: T, start: () => R): R;
}

export let instrument: Instrument | undefined;

/** Installs (or, with undefined, removes) the instrument; returns the previous one. */
export function setInstrument(next: Instrument | undefined): Instrument | undefined {
  const previous = instrument;
  instrument = next;
  return previous;
}
