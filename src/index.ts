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

// Synchronization primitives and queues (issue 3)

export { Barrier, type BarrierStatistics, type BarrierWaitOptions } from "./barrier.js";
export { CapacityLimiter, type CapacityLimiterStatistics } from "./capacity-limiter.js";
export { Condition, type ConditionStatistics, type ConditionWaitOptions } from "./condition.js";
export { Event, type EventStatistics, type EventWaitOptions } from "./event.js";
export { Lock, type LockAcquireOptions, type LockStatistics } from "./lock.js";
export type { Permit } from "./permit.js";
export {
  LifoQueue,
  PriorityQueue,
  type PriorityQueueOptions,
  Queue,
  type QueueOptions,
  type QueueShutdownOptions,
  type QueueStatistics,
  type QueueWaitOptions,
} from "./queue.js";
export { BoundedSemaphore, Semaphore, type SemaphoreStatistics } from "./semaphore.js";
export { BrokenBarrierError, QueueEmpty, QueueFull, QueueShutDown } from "./sync-errors.js";
