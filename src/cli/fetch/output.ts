/**
 * The NDJSON result log: one line per request, written as each result
 * arrives, with backpressure, and flushed on close. A crash can leave at most
 * a partial last line, which `repairAndScan` (for `--resume`) detects and cuts.
 */
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  openSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { open, stat } from "node:fs/promises";
import type { Writable } from "node:stream";

/** One line of output per request. */
export interface ResultRecord {
  line: number;
  url: string;
  method?: string;
  status?: number;
  ok?: boolean;
  headers?: Record<string, string>;
  /** Time to the full response, in ms. */
  ms?: number;
  bytes?: number;
  attempts?: number;
  body?: string;
  file?: string;
  sha256?: string;
  /** Present when there is no response: the reason, e.g. "cancelled", "timeout", "Invalid URL …". */
  error?: string;
  /** For bad input lines: the offending text. */
  input?: string;
  /** Present (true) when the body was longer than --max-body and was cut. */
  truncated?: boolean;
  /** Redirects followed, when any. */
  redirects?: number;
  /** Where the redirects led, when any. */
  finalUrl?: string;
}

/** Records gathered before one write to the stream: fewer, larger writes. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes records as NDJSON. Records written in the same turn of the event
 * loop go to the stream together, at the end of that turn (or as soon as
 * 64 KiB gather): one write per turn instead of one per record. Each write
 * holds whole lines, so a crash still leaves at most a partial last line.
 */
export class NdjsonWriter {
  readonly #out: Writable;
  readonly #owned: boolean;
  #written = 0;
  #pending = "";
  #flushScheduled: ReturnType<typeof setImmediate> | undefined;
  /** The stream's first error: every later write and close() fails with it. */
  #error: Error | undefined;
  /** While the stream's buffer is full: one wait shared by every writer, so listeners don't pile up. */
  #drain: Promise<void> | undefined;

  private constructor(
    out: Writable,
    owned: boolean,
    onError: ((error: Error) => void) | undefined,
  ) {
    this.#out = out;
    this.#owned = owned;
    this.#onError = onError;
    out.on("error", this.#failed);
  }

  readonly #onError: ((error: Error) => void) | undefined;

  /** The stream failed (or was given up on): every later write and close() fails with `error`. */
  readonly #failed = (error: Error): void => {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#onError?.(error);
  };

  /**
   * Appends to `path` (created if missing), or writes to stdout when `path`
   * is undefined. `onError` hears of the stream's first error at once (a
   * missing directory, a full disk), before any write fails with it.
   */
  static open(
    path: string | undefined,
    onError?: (error: Error) => void,
    stop?: AbortSignal,
  ): NdjsonWriter {
    if (path === undefined) return new NdjsonWriter(process.stdout, false, onError);
    const out = createWriteStream(path, { flags: "a" });
    const writer = new NdjsonWriter(out, true, onError);
    if (stop !== undefined) giveUpOpeningOn(stop, out, writer.#failed);
    return writer;
  }

  get written(): number {
    return this.#written;
  }

  /**
   * Queues one record. Returns a promise while the stream's buffer is full
   * (backpressure: wait for it), else undefined. Throws the stream's error
   * once it failed (a full disk, a closed pipe).
   */
  write(record: ResultRecord): Promise<void> | undefined {
    if (this.#error !== undefined) throw this.#error;
    this.#written++;
    this.#pending += `${JSON.stringify(record)}\n`;
    if (this.#pending.length >= FLUSH_BYTES) this.#flush();
    else this.#flushScheduled ??= setImmediate(this.#flush);
    return this.#drain;
  }

  readonly #flush = (): void => {
    if (this.#flushScheduled !== undefined) {
      clearImmediate(this.#flushScheduled);
      this.#flushScheduled = undefined;
    }
    const text = this.#pending;
    if (text === "" || this.#error !== undefined) return;
    this.#pending = "";
    if (!this.#out.write(text)) this.#waitForDrain();
  };

  #waitForDrain(): void {
    this.#drain ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        this.#out.off("drain", done);
        this.#out.off("error", done);
        this.#drain = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.#out.on("drain", done);
      this.#out.on("error", done);
    });
    // A writer that waits gets the error; with none waiting it is not unhandled (close() reports it).
    this.#drain.catch(() => undefined);
  }

  /** Flushes everything written and closes the file (stdout stays open). */
  async close(): Promise<void> {
    this.#flush();
    if (this.#error !== undefined) throw this.#error;
    if (!this.#owned) {
      await new Promise<void>((resolve, reject) =>
        this.#out.write("", (error) => (error ? reject(error) : resolve())),
      );
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#out.once("error", reject);
      // end()'s callback also hears of an error (a stream destroyed while opening, see giveUpOpeningOn).
      this.#out.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}

/** A growable set of line numbers in one bit per line: 10 million lines cost 1.25 MB. */
export class LineSet {
  #bits = new Uint8Array(1024);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(line: number): void {
    const byte = line >> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (line & 7);
    if (((this.#bits[byte] as number) & mask) === 0) {
      this.#bits[byte] = (this.#bits[byte] as number) | mask;
      this.#size++;
    }
  }

  has(line: number): boolean {
    const byte = line >> 3;
    return byte < this.#bits.length && ((this.#bits[byte] as number) & (1 << (line & 7))) !== 0;
  }
}

export interface ResumeState {
  /** Input lines that already have a final result. */
  readonly done: LineSet;
  /** Complete records found. */
  readonly records: number;
  /** Bytes cut from the end: a partial last line left by a crash (0 when none). */
  readonly repairedBytes: number;
}

/**
 * Reads an existing output file for `--resume`: collects the input lines that
 * are done (any record but a cancelled one) and cuts a partial or corrupt last
 * line, so appending continues from a clean line boundary. A missing file is
 * an empty state.
 */
export async function repairAndScan(path: string): Promise<ResumeState> {
  const done = new LineSet();
  let records = 0;
  try {
    await stat(path);
  } catch {
    return { done, records, repairedBytes: 0 };
  }
  let offset = 0; // file offset of `carry`'s first byte
  let goodEnd = 0; // end of the last complete, valid line
  let badLineAt: number | undefined; // offset of an invalid complete line
  let lineNo = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    const buffer = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk as Buffer]);
    let start = 0;
    for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
      lineNo++;
      if (badLineAt !== undefined) {
        // Only the last line may be damaged (a crash mid-write); anything else is not ours to cut.
        throw new Error(
          `Cannot resume: ${path} has an invalid line ${lineNo - 1} in the middle; fix or remove it, then run again`,
        );
      }
      const record = parseRecord(buffer.subarray(start, nl));
      if (record === undefined) badLineAt = offset + start;
      else {
        records++;
        if (record.error !== "cancelled" && typeof record.line === "number") done.add(record.line);
        goodEnd = offset + nl + 1;
      }
      start = nl + 1;
    }
    offset += start;
    carry = buffer.subarray(start);
  }
  const size = (await stat(path)).size;
  if (goodEnd < size) {
    const handle = await open(path, "r+");
    try {
      await handle.truncate(goodEnd);
    } finally {
      await handle.close();
    }
  }
  return { done, records, repairedBytes: size - goodEnd };
}

function parseRecord(bytes: Buffer): ResultRecord | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    return typeof value === "object" && value !== null ? (value as ResultRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opening a FIFO for writing waits, in a thread of libuv's pool, until a
 * reader opens it; nothing can cancel that wait, and even process.exit()
 * then hangs (it joins the pool's threads). When `stop` aborts while `out`
 * is still opening a FIFO, the FIFO is opened for reading here, which ends
 * the wait, and the writer fails with an error saying what was not written.
 */
function giveUpOpeningOn(
  stop: AbortSignal,
  out: WriteStream,
  failed: (error: Error) => void,
): void {
  const giveUp = (): void => {
    if (!out.pending) return;
    const path = String(out.path);
    let reader: number;
    try {
      if (!statSync(path).isFIFO()) return;
      reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return;
    }
    out.once("close", () => closeSync(reader));
    const error = new Error(
      `Stopped before anyone opened the FIFO ${path} for reading: its records were not written`,
    );
    failed(error); // at once: close() may come before the stream's error event
    out.destroy(error);
  };
  if (stop.aborted) giveUp();
  else {
    stop.addEventListener("abort", giveUp, { once: true });
    out.once("open", () => stop.removeEventListener("abort", giveUp));
  }
}
