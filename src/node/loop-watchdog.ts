/**
 * @internal The watchdog thread of `monitorEventLoop`: waits on the main
 * thread's heartbeat in shared memory; when it stalls past the threshold,
 * pauses the main thread through the inspector (while the blocking code is
 * still on its stack), reads the call frames and the aiokit task running,
 * resumes it, and once the heartbeat is back reports the block.
 * @module
 */
import { Session } from "node:inspector";
import { workerData } from "node:worker_threads";
import {
  CURRENT_TASK_KEY,
  Heartbeat,
  type RawFrame,
  type WatchdogData,
  type WatchdogReport,
} from "./loop-protocol.js";

const data = workerData as WatchdogData;
const heartbeat = new Heartbeat(data.shared);
const { threshold, interval, port } = data;
/** The last block's report went out at exit (once: capture and watch both get there). */
let handedOver = false;

interface CallFrame {
  readonly callFrameId: string;
  readonly functionName: string;
  readonly url?: string;
  readonly location: {
    readonly scriptId: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}

let session: Session | undefined;
try {
  session = new Session();
  session.connectToMainThread();
} catch {
  // No inspector in this build of Node: blocks are still reported, without stacks.
  session = undefined;
}

function post<T>(method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    if (session === undefined) {
      reject(new Error("no inspector session"));
      return;
    }
    session.post(method, params, (error, result) => {
      if (error) reject(error);
      else resolve(result as T);
    });
  });
}

/** Waits, blocking this thread, until the heartbeat moves past `seq` or `ms` pass. */
function waitForBeat(seq: number, ms: number): "beat" | "timed-out" {
  const until = Date.now() + ms;
  for (;;) {
    if (heartbeat.seq !== seq) return "beat";
    const left = until - Date.now();
    if (left <= 0 || heartbeat.stopped) return "timed-out";
    heartbeat.sleep(Math.min(left, interval));
  }
}

function watch(): void {
  for (;;) {
    if (heartbeat.stopped) {
      // Exiting while blocked, before this thread looked: a block without a stack.
      reportAtExit(heartbeat.time, "ended", [], undefined);
      stop();
      return;
    }
    // Sleep until the last beat would be `threshold` old; beats do not wake us.
    const seq = heartbeat.seq;
    const lastBeat = heartbeat.time;
    const age = Date.now() - lastBeat;
    if (age < threshold) {
      heartbeat.sleep(threshold - age);
      continue;
    }
    // No beat for `threshold` ms (they come every `interval`): the loop is blocked.
    void capture(seq, lastBeat);
    return;
  }
}

async function capture(seq: number, lastBeat: number): Promise<void> {
  // Keeps the process alive until this block is reported (a program may
  // otherwise end right after the block, before the report reaches it).
  port.postMessage({ busy: true });
  // Keeps this thread alive while it waits for the inspector (its messages hold no handle).
  const keepAlive = setInterval(() => {}, 1_000);
  let frames: RawFrame[] = [];
  let task: unknown;
  let stack: WatchdogReport["stack"] = "unavailable";
  if (session !== undefined) {
    const scripts = new Map<string, string>();
    const onScript = (message: { params: { scriptId: string; url: string } }): void => {
      scripts.set(message.params.scriptId, message.params.url);
    };
    session.on("Debugger.scriptParsed", onScript);
    const paused = new Promise<CallFrame[]>((resolve) => {
      session?.once("Debugger.paused", (message: { params: { callFrames: CallFrame[] } }) =>
        resolve(message.params.callFrames),
      );
    });
    try {
      // Both at once: the main thread handles them in one interrupt, while the
      // blocking code is still running (or right as a blocking native call returns).
      const enabled = post("Debugger.enable");
      const pausing = post("Debugger.pause");
      await Promise.all([enabled, pausing]);
      const callFrames = await paused;
      // The heartbeat moved: the block was over before the pause, this stack is not it.
      const stale = heartbeat.seq !== seq;
      // Evaluate in the program's own frame: in Node's internal frames the
      // expression fails (they run with another set of globals).
      const top =
        callFrames.find(
          (frame) => !(scripts.get(frame.location.scriptId) ?? "node:").startsWith("node:"),
        ) ?? callFrames[0];
      if (top !== undefined && !stale) {
        try {
          const evaluated = await post<{ result: { value?: unknown } }>(
            "Debugger.evaluateOnCallFrame",
            {
              callFrameId: top.callFrameId,
              expression: `globalThis[Symbol.for(${JSON.stringify(CURRENT_TASK_KEY)})]?.()`,
              returnByValue: true,
              silent: true,
            },
          );
          task = evaluated.result.value;
        } catch {
          task = undefined;
        }
      }
      await post("Debugger.resume").catch(() => {});
      frames = callFrames.slice(0, 50).map((frame) => ({
        function: frame.functionName,
        url: scripts.get(frame.location.scriptId) ?? frame.url ?? "",
        line: frame.location.lineNumber + 1,
        column: frame.location.columnNumber + 1,
      }));
      stack = stale || idleOnly(frames) ? "ended" : "captured";
    } catch {
      stack = "unavailable";
    } finally {
      session.off("Debugger.scriptParsed", onScript);
      await post("Debugger.disable").catch(() => {});
    }
  }
  clearInterval(keepAlive);
  // Wait for the loop to come back, then measure how long it was away.
  while (waitForBeat(seq, 1_000) === "timed-out" && !heartbeat.stopped);
  if (heartbeat.stopped) {
    // The process is exiting right after the block (`work(); process.exit()`).
    reportAtExit(lastBeat, stack, frames, task);
  } else if (!postBlock(lastBeat, heartbeat.time, stack, frames, task)) {
    port.postMessage({ busy: false });
  }
  port.postMessage({ ready: true });
  setImmediate(watch);
}

/**
 * Once stopped at exit: reports a block that lasted until the process began
 * to exit (that moment is the block's end at the latest). The main thread
 * reads it from its exit handler.
 */
function reportAtExit(
  lastBeat: number,
  stack: WatchdogReport["stack"],
  frames: RawFrame[],
  task: unknown,
): void {
  const exitAt = heartbeat.exitTime;
  if (handedOver || exitAt === 0) return;
  handedOver = true;
  postBlock(lastBeat, exitAt, stack, frames, task);
}

/**
 * Reports the block between the beat at `lastBeat` and `end` (the first beat
 * after it, or the exit) when it passed the threshold. The beat after a block
 * runs late by about the block's length; beats come every `interval`, so the
 * block lasted at least `end - lastBeat - interval`.
 */
function postBlock(
  lastBeat: number,
  end: number,
  stack: WatchdogReport["stack"],
  frames: RawFrame[],
  task: unknown,
): boolean {
  const duration = Math.max(0, end - lastBeat - interval);
  if (duration < threshold) return false;
  const report: WatchdogReport = {
    startedAt: lastBeat,
    duration,
    frames: stack === "captured" ? frames : [],
    stack,
    task,
  };
  port.postMessage(report);
  return true;
}

const IDLE = new Set(["", "node:internal/timers", "node:internal/process/task_queues"]);

/**
 * A pause that landed only in Node's timer machinery: the blocking call had
 * returned and its stack unwound before the pause took effect.
 */
function idleOnly(frames: readonly RawFrame[]): boolean {
  return frames.every((frame) => IDLE.has(frame.url));
}

function stop(): void {
  try {
    session?.disconnect();
  } catch {
    // Already gone.
  }
  session = undefined;
  heartbeat.released();
  port.close();
}

port.postMessage({ ready: true });
setImmediate(watch);
