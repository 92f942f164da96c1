/**
 * The NDJSON result log: one line per request, written as each result
 * arrives, with backpressure, and flushed on close. A crash can leave at most
 * a partial last line, which `repairAndScan` (for `--resume`) detects and cuts.
 */
import { createReadStream, createWriteStream } from "node:fs";
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
}

export class NdjsonWriter {
  readonly #out: Writable;
  readonly #owned: boolean;
  #written = 0;

  private constructor(out: Writable, owned: boolean) {
    this.#out = out;
    this.#owned = owned;
  }

  /** Appends to `path` (created if missing), or writes to stdout when `path` is undefined. */
  static open(path: string | undefined): NdjsonWriter {
    if (path === undefined) return new NdjsonWriter(process.stdout, false);
    return new NdjsonWriter(createWriteStream(path, { flags: "a" }), true);
  }

  get written(): number {
    return this.#written;
  }

  /** Writes one record; waits when the stream's buffer is full (backpressure). */
  async write(record: ResultRecord): Promise<void> {
    this.#written++;
    if (!this.#out.write(`${JSON.stringify(record)}\n`)) await this.#drained();
  }

  // One wait shared by every writer that hit the full buffer, so listeners don't pile up.
  #drain: Promise<void> | undefined;
  #drained(): Promise<void> {
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
    return this.#drain;
  }

  /** Flushes everything written and closes the file (stdout stays open). */
  async close(): Promise<void> {
    if (!this.#owned) {
      await new Promise<void>((resolve) => this.#out.write("", () => resolve()));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#out.once("error", reject);
      this.#out.end(() => resolve());
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
