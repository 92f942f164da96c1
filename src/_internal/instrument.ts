/**
 * Hooks through which `aiokit/node` observes tasks and groups (the live task
 * tree, the leak report). Off by default: the core pays one `undefined` check
 * per event.
 */
import type { Task } from "../task.js";
import type { TaskGroup } from "../task-group.js";

export interface Instrument {
  groupCreated(group: TaskGroup, parent: AbortSignal | undefined): void;
  groupFinished(group: TaskGroup): void;
  taskSpawned(task: Task<unknown>, group: TaskGroup): void;
  taskSettled(task: Task<unknown>): void;
}

export let instrument: Instrument | undefined;

/** Installs (or, with undefined, removes) the instrument; returns the previous one. */
export function setInstrument(next: Instrument | undefined): Instrument | undefined {
  const previous = instrument;
  instrument = next;
  return previous;
}
