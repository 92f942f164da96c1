/**
 * Reading an `AIOKIT_REPORT` file back, and the summary `aiokit doctor`
 * prints: blocking events grouped by where they happened.
 * @module
 */
import { readFileSync } from "node:fs";
import type { DebugRecord } from "./debug-mode.js";
import type { LeakReport } from "./leak-report.js";
import type { BlockReport, StackFrame } from "./loop-monitor.js";

/** An `AIOKIT_REPORT` file, read back by {@link readDebugReport}. */
export interface DebugReport {
  readonly blocks: readonly BlockReport[];
  /** The leak reports written at exit (one per process that had leaks). */
  readonly leaks: readonly LeakReport[];
}

/**
 * Reads the JSON lines that debug mode appends to `AIOKIT_REPORT`. A missing
 * file reads as no reports; a torn last line (a process killed while writing)
 * is skipped.
 *
 * @example
 * ```ts
 * import { formatBlockSummary, readDebugReport, summarizeBlocks } from "aiokit/node";
 * const { blocks } = readDebugReport("/tmp/aiokit-report.jsonl");
 * console.log(formatBlockSummary(summarizeBlocks(blocks)));
 * ```
 */
export function readDebugReport(path: string): DebugReport {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return { blocks: [], leaks: [] };
    throw error;
  }
  const blocks: BlockReport[] = [];
  const leaks: LeakReport[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let record: DebugRecord;
    try {
      record = JSON.parse(line) as DebugRecord;
    } catch {
      continue;
    }
    if (record.type === "block") {
      const { type: _type, pid: _pid, ...block } = record;
      blocks.push(block);
    } else if (record.type === "leaks") {
      const { type: _type, pid: _pid, ...leak } = record;
      leaks.push(leak);
    }
  }
  return { blocks, leaks };
}

/** One row of {@link summarizeBlocks}: every block at one location. */
export interface BlockSummaryRow {
  /** `function (file:line)` of the first frame outside Node's own code, or why there is none. */
  readonly location: string;
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  /** The frame behind `location`, when there is one. */
  readonly frame?: StackFrame;
}

/**
 * Groups blocking events by where they happened (the first frame outside
 * Node's own code: the program's call that blocked), worst total first.
 *
 * @example
 * ```ts
 * import { summarizeBlocks } from "aiokit/node";
 * for (const row of summarizeBlocks(blocks)) console.log(row.location, row.count, row.totalMs);
 * ```
 */
export function summarizeBlocks(blocks: readonly BlockReport[]): BlockSummaryRow[] {
  const rows = new Map<
    string,
    { count: number; totalMs: number; maxMs: number; frame?: StackFrame }
  >();
  for (const block of blocks) {
    const frame =
      block.stack === "captured"
        ? (block.frames.find((f) => !f.url.startsWith("node:") && f.url !== "") ?? block.frames[0])
        : undefined;
    const location =
      frame === undefined
        ? block.stack === "ended"
          ? "(ended before its stack was read)"
          : "(no stack)"
        : `${frame.function === "" ? "<anonymous>" : frame.function} (${shortUrl(frame.url)}:${frame.line})`;
    const row = rows.get(location) ?? { count: 0, totalMs: 0, maxMs: 0 };
    row.count++;
    row.totalMs += block.duration;
    row.maxMs = Math.max(row.maxMs, block.duration);
    if (frame !== undefined) row.frame = frame;
    rows.set(location, row);
  }
  return [...rows]
    .map(([location, row]) => ({ location, ...row }))
    .sort((a, b) => b.totalMs - a.totalMs || b.count - a.count);
}

function shortUrl(url: string): string {
  const cwd = `file://${process.cwd()}/`;
  return url.startsWith(cwd) ? url.slice(cwd.length) : url;
}

/**
 * The summary table `aiokit doctor` ends with: one row per location, with the
 * number of blocks, their total and their longest.
 *
 * ```text
 * blocks  total ms  max ms  where
 *      3       912     312  parseAll (src/parse.js:41)
 *      1       204     204  loadConfig (src/config.js:9)
 * ```
 *
 * @example
 * ```ts
 * import { formatBlockSummary, summarizeBlocks } from "aiokit/node";
 * console.log(formatBlockSummary(summarizeBlocks(blocks)));
 * ```
 */
export function formatBlockSummary(rows: readonly BlockSummaryRow[]): string {
  if (rows.length === 0) return "No blocking of the event loop was detected.";
  const lines = [
    `${"blocks".padStart(6)}  ${"total ms".padStart(8)}  ${"max ms".padStart(6)}  where`,
  ];
  for (const row of rows) {
    lines.push(
      `${String(row.count).padStart(6)}  ${String(Math.round(row.totalMs)).padStart(8)}  ${String(Math.round(row.maxMs)).padStart(6)}  ${row.location}`,
    );
  }
  return lines.join("\n");
}
