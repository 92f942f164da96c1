/**
 * The cost of cancelling: 100,000 tasks each waiting on its own signal, then
 * cancelled all at once. The baseline is the hand-written fan-out: one
 * AbortController per waiter, a loop that aborts each. Both include creating
 * the waiters, so the ratio is the whole cost of a group's cancellation.
 */
import { sleep, taskGroup } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";

const N = 100_000;

/** Resolves when `signal` aborts: the same wait in every case. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

const suite: BenchSuite = {
  title: `cancel: ${N.toLocaleString("en")} waiting tasks, cancelled at once`,
  target: "a group's cancellation ≤ 1.5× the hand-written fan-out",
  cases: [
    {
      name: "hand-written fan-out",
      baseline: true,
      run: async () => {
        const controllers = new Array<AbortController>(N);
        const waits = new Array<Promise<void>>(N);
        for (let i = 0; i < N; i++) {
          const controller = new AbortController();
          controllers[i] = controller;
          waits[i] = untilAborted(controller.signal);
        }
        for (const controller of controllers) controller.abort();
        await Promise.all(waits);
      },
    },
    {
      name: "taskGroup + spawn, tg.cancel()",
      run: () =>
        taskGroup((tg) => {
          for (let i = 0; i < N; i++) tg.spawn(untilAborted);
          tg.cancel();
        }),
    },
    {
      name: "taskGroup + spawn(sleep), tg.cancel()",
      run: () =>
        taskGroup((tg) => {
          for (let i = 0; i < N; i++) tg.spawn((signal) => sleep(3_600_000, { signal }));
          tg.cancel();
        }),
    },
  ],
};
export default suite;
