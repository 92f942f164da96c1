/**
 * One HTTP request and its response on undici's handler API (`dispatch`), the
 * layer under `request()`: the body arrives as chunks, with no Readable stream
 * and no AbortSignal of its own. A deadline and an abort signal end it through
 * undici's controller. At 100,000 requests this is the difference between
 * keeping up with a bare undici loop and not.
 */
import type { Dispatcher } from "undici";
import { addAbortListener, removeAbortListener, TimeoutError } from "../../index.js";
import { getClock } from "../../testing/index.js";
import { DeadlineEntry, Deadlines } from "./deadlines.js";

/** Response headers as undici parses them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A response read to its end. */
export interface Exchange {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** Body bytes received. */
  readonly bytes: number;
  /** The body's first `keep` bytes, as received. */
  readonly chunks: readonly Buffer[];
  /** Bytes in `chunks`. */
  readonly keptBytes: number;
}

export interface ExchangeOptions {
  /** When the exchange times out, on aiokit's clock (`now()`), to the body's last byte. */
  readonly deadline: number;
  /** The time limit the deadline stands for, in ms: reported in the TimeoutError. */
  readonly timeout: number;
  /** Aborting it ends the exchange, rejecting with the signal's reason. */
  readonly signal: AbortSignal;
  /** Body bytes to keep (Infinity for all); the rest is counted, not kept. */
  readonly keep: number;
}

const deadlines = new Deadlines();

/**
 * Sends `request` on `dispatcher` and reads the response to its end. Rejects
 * with a `TimeoutError` at the deadline, with the signal's reason when it
 * aborts, else with undici's error. It settles only once undici is done with
 * the request, so nothing is left running.
 */
export function exchange(
  dispatcher: Dispatcher,
  request: Dispatcher.DispatchOptions,
  options: ExchangeOptions,
): Promise<Exchange> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  if (options.deadline <= getClock().now())
    return Promise.reject(new TimeoutError(options.timeout));
  return new Promise<Exchange>((resolve, reject) => {
    dispatcher.dispatch(request, new ExchangeHandler(resolve, reject, options));
  });
}

// One object per request is the handler, the deadline entry, the abort
// listener and the result: nothing else is allocated for it.
class ExchangeHandler extends DeadlineEntry implements Dispatcher.DispatchHandler, Exchange {
  status = 0;
  headers: ResponseHeaders = {};
  bytes = 0;
  chunks: Buffer[] = [];
  keptBytes = 0;
  readonly #resolve: (value: Exchange) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal;
  readonly #keep: number;
  readonly #timeout: number;
  #controller: Dispatcher.DispatchController | undefined;
  /** Why we ended it (a timeout or the signal), once we did. */
  #reason: unknown;
  #ended = false;

  constructor(
    resolve: (value: Exchange) => void,
    reject: (reason: unknown) => void,
    options: ExchangeOptions,
  ) {
    super();
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = options.signal;
    this.#keep = options.keep;
    this.#timeout = options.timeout;
    deadlines.add(this, options.deadline);
    // Every request in flight listens to one signal: O(1) through aiokit; the
    // signal's own list is walked on each add and remove (~15% of the engine's time at -c 256).
    addAbortListener(this.#signal, this);
  }

  expire(): void {
    this.#end(new TimeoutError(this.#timeout));
  }

  /** The signal aborted (the handler is its own abort listener). */
  handleEvent(): void {
    this.#end(this.#signal.reason);
  }

  // Before undici starts the request there is no controller yet: the reason
  // waits for onRequestStart, as undici's own request() does.
  #end(reason: unknown): void {
    if (this.#reason !== undefined || this.#ended) return;
    this.#reason = reason;
    this.#controller?.abort(reason as Error);
  }

  #cleanup(): void {
    this.#ended = true;
    deadlines.remove(this);
    removeAbortListener(this.#signal, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#reason !== undefined) controller.abort(this.#reason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    const room = this.#keep - this.keptBytes;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.keptBytes += part.length;
  }

  onResponseEnd(): void {
    if (this.#ended) return;
    this.#cleanup();
    if (this.#reason !== undefined) this.#reject(this.#reason);
    else this.#resolve(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#ended) return;
    this.#cleanup();
    this.#reject(this.#reason ?? error);
  }
}
