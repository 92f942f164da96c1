/**
 * A pool's state and its closing: what `close()` waits for, and the signal
 * that makes the creates and validations in progress give up.
 * @module
 */
import { onAbort, sharedController } from "../_internal/abort.js";
import { resolved } from "../_internal/thenable.js";
import { PoolClosedError } from "./pool-errors.js";

/** `"open"`, `"closing"` (waiting for leases and destroys) or `"closed"`. */
export type PoolState = "open" | "closing" | "closed";

/** @internal */
export class PoolClosing {
  state: PoolState = "open";
  readonly #controller = sharedController();
  #resolveClosed: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  /** Aborts (with a PoolClosedError) once closing starts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts closing; returns the error acquirers get from now on. */
  start(): PoolClosedError {
    this.state = "closing";
    this.#closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    return new PoolClosedError("Cannot acquire from the pool: it was closed");
  }

  /** Tells the work in progress to give up (after the queue was rejected). */
  abortWork(error: PoolClosedError): void {
    this.#controller.abort(error);
  }

  /** Closing is over: every resource is destroyed. */
  finish(): void {
    this.state = "closed";
    this.#resolveClosed?.();
  }

  /** Resolves once closed; rejects with `signal.reason` if it aborts first (closing goes on). */
  wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.state === "closed") return resolved;
    const closed = this.#closed as Promise<void>;
    if (signal === undefined) return closed;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const off = onAbort(signal, reject);
      void closed.then(() => {
        off();
        resolve();
      });
    });
  }

  /** The error of an acquire refused because the pool is not open. */
  error(): PoolClosedError {
    return new PoolClosedError(`Cannot acquire from the pool: it is ${this.state}`);
  }
}
