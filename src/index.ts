/**
 * aiokit: structured concurrency for TypeScript, the asyncio model with real
 * cancellation. This entry point runs unchanged in Node, browsers, Deno and Bun
 * (no `node:` imports below it).
 * @module aiokit
 */

export { type AbortListener, addAbortListener, removeAbortListener } from "./abort-listeners.js";
export { now } from "./clock.js";
// Moved to aiokit/testing; deprecated aliases until 0.3.0.
export { type Clock, getClock, realClock, setClock, type TimerHandle } from "./deprecated.js";
export {
  CancelledError,
  type ErrorOptions,
  isCancellation,
  TaskGroupError,
  TimeoutError,
} from "./errors.js";
// Throughput: limits, rate limits, retries, streams (issue 4)
export { type KeyedLimit, type KeyedLimiterOptions, keyedLimiter } from "./limit/keyed-limiter.js";
export { type Limit, type LimitOptions, limiter } from "./limit/limiter.js";
export { type MapFn, type MapInput, type MapOptions, map } from "./limit/map.js";
export {
  RateLimiter,
  type RateLimiterAcquireOptions,
  type RateLimiterOptions,
  type RateOption,
} from "./limit/rate-limiter.js";
export { RetryError, type RetryOptions, retry } from "./limit/retry.js";
// Resource management (issue 5)
export { AsyncExitStack } from "./resource/exit-stack.js";
export { Lease } from "./resource/lease.js";
export { Pool } from "./resource/pool.js";
export { LeaseReleasedError, PoolClosedError, PoolOverflowError } from "./resource/pool-errors.js";
export type {
  AcquireOptions,
  PoolCloseOptions,
  PoolOperation,
  PoolOptions,
  PoolStats,
} from "./resource/pool-options.js";
export { type ResourceFactory, type ResourceHandle, resource } from "./resource/resource.js";
export { SuppressedError, type SuppressedErrorConstructor } from "./resource/suppressed-error.js";
export type { CatchResult } from "./stream/catch.js";
export { merge, stream, zip } from "./stream/make.js";
export type {
  ItemOf,
  StreamBatchOptions,
  StreamForEachOptions,
  StreamMapOptions,
  StreamOptions,
  StreamTerminalOptions,
} from "./stream/options.js";
export type {
  EventSourceLike,
  EventSourceOptions,
  Overflow,
  PushSetup,
  PushSink,
  PushSourceOptions,
} from "./stream/push-source.js";
export type { StreamSource } from "./stream/sources.js";
export { Stream } from "./stream/stream.js";
export { type AsCompletedOptions, asCompleted } from "./task/as-completed.js";
export { type Awaitable, type AwaitedOf, type GatherOptions, gather } from "./task/gather.js";
export { type RaceOptions, race } from "./task/race.js";
export { type ShieldOptions, shield } from "./task/shield.js";
export { type SleepOptions, sleep } from "./task/sleep.js";
export { Task, type TaskFn, type TaskState } from "./task/task.js";
export {
  type SpawnOptions,
  TaskGroup,
  type TaskGroupOptions,
  taskGroup,
} from "./task/task-group.js";
export { moveOnAfter, moveOnAt, type TimeoutOptions, timeout, timeoutAt } from "./task/timeout.js";
export { type ReturnWhen, type WaitOptions, type WaitResult, wait } from "./task/wait.js";

// Synchronization primitives and queues (issue 3)

export { Barrier, type BarrierStatistics, type BarrierWaitOptions } from "./sync/barrier.js";
export { CapacityLimiter, type CapacityLimiterStatistics } from "./sync/capacity-limiter.js";
export {
  Condition,
  type ConditionStatistics,
  type ConditionWaitOptions,
} from "./sync/condition.js";
export { BrokenBarrierError, QueueEmpty, QueueFull, QueueShutDown } from "./sync/errors.js";
export { Event, type EventStatistics, type EventWaitOptions } from "./sync/event.js";
export { Lock, type LockAcquireOptions, type LockStatistics } from "./sync/lock.js";
export type { Permit } from "./sync/permit.js";
export {
  LifoQueue,
  PriorityQueue,
  type PriorityQueueOptions,
  Queue,
  type QueueOptions,
  type QueueShutdownOptions,
  type QueueStatistics,
  type QueueWaitOptions,
} from "./sync/queue.js";
export { BoundedSemaphore, Semaphore, type SemaphoreStatistics } from "./sync/semaphore.js";
