/**
 * `limiter` used the way p-limit is used: 1,000,000 calls queued at once,
 * `Promise.all(items.map((x) => limit(() => fn(x))))`, concurrency 16.
 * The two floor cases are the pattern's own cost without any limiter: with
 * the closures kept until they run, and without even those. A limiter can't
 * beat the first (it must keep every closure and hand out a pending promise).
 */
import pLimit from "p-limit";
import PQueue from "p-queue";
import { limiter } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";
import { check, items, N, noop } from "../throughput-workloads.js";

const concurrency = 16;

const suite: BenchSuite = {
  title: `limiter: ${N.toLocaleString("en")} calls, Promise.all(items.map((x) => limit(() => fn(x)))), concurrency ${concurrency}`,
  target: "aiokit limiter ≥ 5× faster than p-limit at ≤ half its peak memory",
  cases: [
    {
      name: "p-limit",
      baseline: true,
      run: async () => {
        const limit = pLimit(concurrency);
        check(await Promise.all(items.map((x) => limit(() => noop(x)))));
      },
    },
    {
      name: "aiokit limiter",
      run: async () => {
        const limit = limiter(concurrency);
        check(await Promise.all(items.map((x) => limit(() => noop(x)))));
      },
    },
    {
      name: "p-queue",
      run: async () => {
        const queue = new PQueue({ concurrency });
        check(await Promise.all(items.map((x) => queue.add(() => noop(x)))));
      },
    },
    {
      // What any limiter must at least do here: keep each call's closure
      // until it runs (no promise per queued call, no limit).
      name: "floor: closures queued, then run",
      run: async () => {
        const queued = items.map((x) => () => noop(x));
        check(await Promise.all(queued.map((call) => call())));
      },
    },
    {
      name: "floor: no limiter, no closures",
      run: async () => check(await Promise.all(items.map((x) => noop(x)))),
    },
  ],
};

export default suite;
