/**
 * `node --import aiokit/node/register app.js`: aiokit's debug mode for any
 * program, without touching its code — blocking detection with stacks on
 * stderr, task tracking, the leak report at exit, and the task tree for
 * `aiokit ps PID`. Configured by environment variables (see
 * `debugOptionsFromEnv`):
 *
 * | variable | meaning |
 * | --- | --- |
 * | `AIOKIT_DEBUG` | `1`/`all` (default): everything; `0`/`off`: nothing; or a list of `block`, `tasks`, `leaks`, `ps` |
 * | `AIOKIT_BLOCK_THRESHOLD` | report blocks longer than this many ms (default 100) |
 * | `AIOKIT_TASK_STACKS` | `0` to skip capturing where tasks were spawned |
 * | `AIOKIT_REPORT` | also append each report to this file as a JSON line |
 *
 * Does nothing in worker threads (they inherit `--import`, and are meant to block).
 *
 * @example
 * ```sh
 * AIOKIT_BLOCK_THRESHOLD=50 node --import aiokit/node/register server.js
 * NODE_OPTIONS="--import aiokit/node/register" npm start
 * ```
 * @module
 */
import { isMainThread } from "node:worker_threads";
import { debugOptionsFromEnv, enableDebugMode } from "./debug-mode.js";

if (isMainThread) {
  const options = debugOptionsFromEnv(process.env);
  if (options !== undefined) enableDebugMode(options);
}
