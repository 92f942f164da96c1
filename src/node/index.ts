/**
 * `aiokit/node`: the Node-only layer — `run()`, worker threads, blocking
 * detection and the live task tree.
 * @module
 */

// Node runtime layer (issue 6)
export { formatLeakReport, type LeakedTask, type LeakReport, leakReport } from "./leak-report.js";
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
