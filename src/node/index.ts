/**
 * `aiokit/node`: the Node-only layer (run, worker threads, blocking detection,
 * task tree). Filled in by the Node runtime issue.
 * @module
 */
export {};
