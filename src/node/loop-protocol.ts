/**
 * Internal to aiokit/node: what the main thread and the watchdog thread of
 * `monitorEventLoop` share: the heartbeat in shared memory and the messages.
 * @module
 */

import type { MessagePort } from "node:worker_threads";

/** The global (a registered symbol) through which the paused main thread tells the watchdog its current task. */
export const CURRENT_TASK_KEY = "aiokit.currentTask";

/** A call frame as the watchdog reads it. */
export interface RawFrame {
  readonly function: string;
  readonly url: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** What the watchdog gets as workerData. */
export interface WatchdogData {
  readonly shared: SharedArrayBuffer;
  readonly threshold: number;
  readonly interval: number;
  /**
   * Where the watchdog posts its messages: a port of its own rather than
   * parentPort, so that the main thread can still read them, synchronously
   * (`receiveMessageOnPort`), from its exit handler.
   */
  readonly port: MessagePort;
}

/** How a block's stack turned out. */
export type StackStatus = "captured" | "ended" | "unavailable";

/** A block, as the watchdog reports it to the main thread. */
export interface WatchdogReport {
  readonly startedAt: number;
  readonly duration: number;
  readonly frames: readonly RawFrame[];
  readonly stack: StackStatus;
  readonly task: unknown;
}

/**
 * The main thread's heartbeat: a sequence number bumped on every beat, the
 * time of the last beat, a stop flag (notified, to wake the watchdog), and
 * the time the process began to exit.
 */
export class Heartbeat {
  readonly shared: SharedArrayBuffer;
  readonly #ints: Int32Array;
  readonly #time: Float64Array;

  constructor(shared = new SharedArrayBuffer(32)) {
    this.shared = shared;
    // [0] seq, [1] stop flag, [2] the watchdog let go of the main thread (disconnected).
    this.#ints = new Int32Array(shared, 0, 4);
    // [0] the last beat, [1] when the main thread began to exit (epoch ms; 0 until then).
    this.#time = new Float64Array(shared, 16, 2);
  }

  /** Watchdog: its inspector session is gone, the main thread may exit. */
  released(): void {
    Atomics.store(this.#ints, 2, 1);
    Atomics.notify(this.#ints, 2);
  }

  /**
   * Main thread, at exit: waits (blocking, at most `ms`) for the watchdog to
   * let go, so Node does not wait for a debugger to disconnect.
   */
  waitReleased(ms: number): void {
    Atomics.wait(this.#ints, 2, 0, ms);
  }

  /**
   * Main thread: the loop is alive. Two stores, no system call: the watchdog
   * does not wake on beats, it looks at the time of the last one when it does.
   */
  beat(): void {
    this.#time[0] = Date.now();
    Atomics.add(this.#ints, 0, 1);
  }

  /** Main thread: tells the watchdog to finish; `exitAt` when the process is exiting. */
  stop(exitAt?: number): void {
    if (exitAt !== undefined) this.#time[1] = exitAt;
    Atomics.store(this.#ints, 1, 1);
    Atomics.add(this.#ints, 0, 1);
    Atomics.notify(this.#ints, 0);
  }

  get stopped(): boolean {
    return Atomics.load(this.#ints, 1) === 1;
  }

  get seq(): number {
    return Atomics.load(this.#ints, 0);
  }

  /** Epoch milliseconds of the last beat (written before `seq` moves, so reading it after seeing `seq` is safe). */
  get time(): number {
    return this.#time[0] as number;
  }

  /** When the main thread began to exit (epoch ms), or 0 when the monitor was stopped otherwise. */
  get exitTime(): number {
    return this.#time[1] as number;
  }

  /** Watchdog: sleeps `ms` (blocking its thread), or less if `stop()` is called. */
  sleep(ms: number): void {
    Atomics.wait(this.#ints, 0, Atomics.load(this.#ints, 0), ms);
  }
}
