/**
 * @internal The file piscina loads in each worker of a WorkerPool. It is
 * CommonJS on purpose: piscina loads its handler with require() first, and
 * Node 20's require() of an ES module aborts the whole process (a failed
 * CHECK in CreateRequiredModuleFacade) when the worker is terminated while
 * loading — which happens when a pool closes as a replacement worker starts.
 * This file loads the real handler (worker-entry.js) with import().
 * @module
 */

type RunJob = (job: never) => unknown;

let runJob: RunJob | undefined;
const loading: Promise<RunJob> = import("./worker-entry.js").then((module) => {
  runJob = module.default;
  return module.default;
});
// A failed load is reported by the first job, not as an unhandled rejection.
loading.catch(() => {});

function handler(job: never): unknown {
  return runJob === undefined ? loading.then((run) => run(job)) : runJob(job);
}

export = handler;
