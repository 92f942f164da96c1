/**
 * aiokit/bullmq: the same job API in one process or across many machines.
 * `localQueue()` runs tasks here with aiokit's `map`, `retry` and limiters;
 * `distributedQueue(name, { connection })` runs them on {@link runWorker}s
 * through BullMQ and Redis (optional peer dependencies: `npm install bullmq ioredis`).
 * @module aiokit/bullmq
 */

export { type DistributedQueueOptions, distributedQueue } from "./distributed-queue.js";
export { localQueue } from "./local-queue.js";
export type { Outcome, QueueMapOptions, RunOptions } from "./options.js";
export type { JobQueue, RunInput } from "./queue-map.js";
export { type Connection, RedisUnavailableError, RedisVersionError } from "./redis.js";
export { cancelRun, listRuns, type RunInfo, type RunsOptions } from "./runs.js";
export { defineTask, type TaskContext, type TaskDefinition, type TaskFn } from "./task.js";
export { runWorker, type WorkerOptions } from "./worker.js";
