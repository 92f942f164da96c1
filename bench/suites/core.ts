/**
 * The cost of a task. 1,000,000 no-op async calls awaited with Promise.all
 * (the baseline), spawned in one TaskGroup, and gathered. Every spawned task
 * has its own AbortSignal (issue 13), whether its function declares the
 * parameter or not: the two spawn cases differ only in the function.
 */
import { gather, TaskGroup, taskGroup } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";

const N = 1_000_000;
const noop = async (): Promise<number> => 1;
const noopWithSignal = async (_signal: AbortSignal): Promise<number> => 1;

const suite: BenchSuite = {
  title: `core: ${N.toLocaleString("en")} no-op async tasks`,
  target:
    "spawn ≤ 2.5× Promise.all in time and ≤ 3× in memory (every task has its own AbortSignal); gather within 2×",
  cases: [
    {
      name: "Promise.all(async calls)",
      baseline: true,
      run: async () => {
        const promises = new Array<Promise<number>>(N);
        for (let i = 0; i < N; i++) promises[i] = noop();
        await Promise.all(promises);
      },
    },
    {
      // What a task with its own signal costs, written by hand: a controller
      // per call, kept so the call can be cancelled, and a reaction per call
      // that records its outcome, a count to know when all have settled. The
      // floor under spawn's figure (issue 13): what stays reachable per
      // pending call is what the garbage collector pays for.
      name: "hand loop: own AbortController + outcome per call",
      run: () =>
        new Promise<void>((resolve) => {
          const controllers = new Array<AbortController>(N);
          const outcomes = new Array<unknown>(N);
          let pending = N;
          // The reactions reach the controllers, as a cancel-all would: an
          // array nothing reads after the loop is garbage V8 may drop early
          // (measured on Node 24: ~128 B less per pending call, its controller and signal).
          const settle = (i: number, outcome: unknown): void => {
            outcomes[i] = outcome;
            if (--pending === 0) {
              controllers.fill(undefined as never);
              resolve();
            }
          };
          for (let i = 0; i < N; i++) {
            const controller = new AbortController();
            controllers[i] = controller;
            noopWithSignal(controller.signal).then(
              (value) => settle(i, value),
              (error: unknown) => settle(i, error),
            );
          }
        }),
    },
    {
      name: "taskGroup + spawn",
      run: () =>
        taskGroup((tg) => {
          for (let i = 0; i < N; i++) tg.spawn(noop);
        }),
    },
    {
      name: "taskGroup + spawn((signal) => …)",
      run: () =>
        taskGroup((tg) => {
          for (let i = 0; i < N; i++) tg.spawn(noopWithSignal);
        }),
    },
    {
      name: "await using TaskGroup + spawn",
      run: async () => {
        await using tg = new TaskGroup();
        for (let i = 0; i < N; i++) tg.spawn(noop);
      },
    },
    {
      name: "gather(task functions)",
      run: async () => {
        const fns = new Array<() => Promise<number>>(N);
        for (let i = 0; i < N; i++) fns[i] = noop;
        await gather(fns);
      },
    },
    {
      name: "gather(promises)",
      run: async () => {
        const promises = new Array<Promise<number>>(N);
        for (let i = 0; i < N; i++) promises[i] = noop();
        await gather(promises);
      },
    },
    {
      name: "gather(fns taking a signal)",
      run: async () => {
        const fns = new Array<(signal: AbortSignal) => Promise<number>>(N);
        for (let i = 0; i < N; i++) fns[i] = noopWithSignal;
        await gather(fns);
      },
    },
  ],
};
export default suite;
