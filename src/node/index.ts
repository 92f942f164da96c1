/**
 * `aiokit/node`: the Node-only layer — `run()`, worker threads, blocking
 * detection and the live task tree.
 * @module
 */

export {
  type DebugModeOptions,
  type DebugRecord,
  debugModeReady,
  debugOptionsFromEnv,
  enableDebugMode,
  registerUrl,
} from "./debug-mode.js";
export {
  type BlockSummaryRow,
  type DebugReport,
  formatBlockSummary,
  readDebugReport,
  summarizeBlocks,
} from "./debug-report.js";
export { jobSignal } from "./job-signal.js";
// Node runtime layer (issue 6)
export { formatLeakReport, type LeakedTask, type LeakReport, leakReport } from "./leak-report.js";
export {
  type BlockReport,
  type EventLoopMonitor,
  formatBlockReport,
  type MonitorOptions,
  monitorEventLoop,
  type StackFrame,
} from "./loop-monitor.js";
export { type Main, type RunOptions, run } from "./run.js";
export {
  currentTask,
  dumpTasks,
  enableTaskTracking,
  formatTaskTree,
  isTaskTracking,
  type TaskRef,
  type TaskTrackingOptions,
  type TaskTreeNode,
} from "./task-tree.js";
export {
  type RequestTaskTreeOptions,
  requestTaskTree,
  serveTaskTree,
  type TaskTreeServer,
  type TaskTreeSnapshot,
  TaskTreeUnavailableError,
  type TaskTreeUnavailableReason,
  taskTreeSocketPath,
} from "./task-tree-socket.js";
export { defaultWorkerPool, type ToWorkerOptions, toWorker } from "./to-worker.js";
export { type Transfer, transfer } from "./transfer.js";
export {
  type AnyFunction,
  type CallOptions,
  type JobResult,
  type WorkerFunction,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkerPoolStatistics,
} from "./worker-pool.js";
