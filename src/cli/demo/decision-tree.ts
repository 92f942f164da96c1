/**
 * (4) The decision tree: a blocking call caught by the blocking detector with
 * its stack, then the same CPU work moved to worker threads with toWorker.
 */
import { gather } from "../../index.js";
import { type BlockReport, monitorEventLoop, toWorker } from "../../node/index.js";
import { sha256Rounds } from "./cpu-job.js";

export interface DecisionTreeFigures {
  readonly blocking:
    | { readonly durationMs: number; readonly frames: readonly string[] }
    | undefined;
  readonly jobs: number;
  readonly mainThreadMs: number;
  readonly workerMs: number;
  readonly blockedDuringWorker: boolean;
}

const ROUNDS = 40_000;
const JOBS = 8;

/** The mistake the detector should catch: CPU work run right on the event loop. */
function hashPasswordsOnTheEventLoop(): string[] {
  const out: string[] = [];
  for (let i = 0; i < JOBS; i++) out.push(sha256Rounds(`password ${i}`, ROUNDS));
  return out;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

export async function decisionTree(): Promise<DecisionTreeFigures> {
  const reports: BlockReport[] = [];
  const monitor = monitorEventLoop({ threshold: 50, onBlock: (report) => reports.push(report) });
  const hash = toWorker<typeof sha256Rounds>(
    new URL("./cpu-job.js", import.meta.url),
    "sha256Rounds",
  );
  try {
    await tick(); // the watchdog is up
    let started = performance.now();
    const onLoop = hashPasswordsOnTheEventLoop();
    const mainThreadMs = performance.now() - started;
    await tick();
    await hash("warm-up", 1); // start the worker threads before timing
    const before = reports.length;
    started = performance.now();
    const inWorkers = await gather(onLoop.map((_, i) => () => hash(`password ${i}`, ROUNDS)));
    const workerMs = performance.now() - started;
    await tick();
    if (inWorkers.join() !== onLoop.join()) throw new Error("the worker computed something else");
    // On a busy machine the loop may also stall elsewhere: show the block of the mistake.
    const first =
      reports.find((r) => r.frames.some((f) => f.function === hashPasswordsOnTheEventLoop.name)) ??
      reports[0];
    return {
      blocking:
        first === undefined
          ? undefined
          : {
              durationMs: first.duration,
              frames: first.frames.map(
                (f) =>
                  `${f.function || "<anonymous>"} (${f.url.replace(/^file:\/\//, "")}:${f.line})`,
              ),
            },
      jobs: JOBS,
      mainThreadMs,
      workerMs,
      blockedDuringWorker: reports.length > before,
    };
  } finally {
    await monitor.stop();
  }
}
