/**
 * aiokit: structured concurrency for TypeScript, the asyncio model with real
 * cancellation. This entry point runs unchanged in Node, browsers, Deno and Bun
 * (no `node:` imports below it).
 * @module
 */

export { type AsCompletedOptions, asCompleted } from "./as-completed.js";
export { type Clock, getClock, now, realClock, setClock, type TimerHandle } from "./clock.js";
export {
  CancelledError,
  type ErrorOptions,
  isCancellation,
  TaskGroupError,
  TimeoutError,
} from "./errors.js";
export { type Awaitable, type AwaitedOf, type GatherOptions, gather } from "./gather.js";
export { type RaceOptions, race } from "./race.js";
// Resource management (issue 5)
export { AsyncExitStack } from "./resource/exit-stack.js";
export {
  type AcquireOptions,
  Lease,
  Pool,
  type PoolCloseOptions,
  type PoolOperation,
  type PoolOptions,
  type PoolStats,
} from "./resource/pool.js";
export { LeaseReleasedError, PoolClosedError, PoolOverflowError } from "./resource/pool-errors.js";
export { type ResourceFactory, type ResourceHandle, resource } from "./resource/resource.js";
export { SuppressedError, type SuppressedErrorConstructor } from "./resource/suppressed-error.js";
export { type ShieldOptions, shield } from "./shield.js";
export { type SleepOptions, sleep } from "./sleep.js";
export { Task, type TaskFn, type TaskState } from "./task.js";
export { type SpawnOptions, TaskGroup, type TaskGroupOptions, taskGroup } from "./task-group.js";
export { moveOnAfter, moveOnAt, type TimeoutOptions, timeout, timeoutAt } from "./timeout.js";
export { type ReturnWhen, type WaitOptions, type WaitResult, wait } from "./wait.js";
