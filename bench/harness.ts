/**
 * The benchmark harness behind `npm run bench`. Every measurement runs in a
 * fresh process (so peak memory is comparable), several times; the table shows
 * medians and ratios against the suite's baseline.
 *
 * A suite is a module in bench/suites/ whose default export is a BenchSuite.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface BenchCase {
  /** Shown in the table; also how run-case.js finds the case. */
  readonly name: string;
  /**
   * The work to time, run once in a fresh process, given what `setup`
   * returned. It may return `{ peakMb }` to report memory it measured itself
   * (a child process's peak, say) instead of this process's.
   */
  readonly run?: (context: never) => unknown;
  /** Untimed work before `run` (start a server, write an input file); its value goes to `run`. */
  readonly setup?: () => unknown;
  /** Untimed work after `run`, given what `setup` returned. */
  readonly teardown?: (context: never) => unknown;
  /** False when the case can't run on this machine (a peer that is not installed): it is left out. */
  readonly available?: () => boolean;
  /** Instead of `run`: a command that prints `{"ms":…,"peakMb":…}` as its last line (e.g. a Python peer). */
  readonly command?: () => readonly string[] | undefined;
  /** Ratios in the table are relative to this case. */
  readonly baseline?: boolean;
}

export interface BenchSuite {
  readonly title: string;
  readonly cases: readonly BenchCase[];
  /** Shown under the table: the target the issue sets. */
  readonly target?: string;
  /** Items each case processes: the table then shows items/s. */
  readonly items?: number;
}

export interface Measurement {
  /** Wall time of the case, in ms. */
  readonly ms: number;
  /** Peak resident memory above the process's starting point, in MB. */
  readonly peakMb: number;
  /** Further figures a case measured itself (`run` returns `{ metrics }`), shown as median columns. */
  readonly metrics?: Readonly<Record<string, number>>;
}

const runCaseScript = fileURLToPath(new URL("./run-case.js", import.meta.url));
/** The Node that runs each case: BENCH_NODE=/path/to/node measures another version side by side. */
export const nodeBinary = process.env.BENCH_NODE ?? process.execPath;

/** Runs one case in a fresh Node process and returns its measurement, or undefined when it can't run here. */
export function measure(suiteFile: string, bcase: BenchCase): Measurement | undefined {
  if (bcase.available?.() === false) return undefined;
  let argv: readonly string[];
  if (bcase.command !== undefined) {
    const command = bcase.command();
    if (command === undefined) return undefined;
    argv = command;
  } else {
    argv = [nodeBinary, "--expose-gc", runCaseScript, suiteFile, bcase.name];
  }
  const [file, ...args] = argv;
  const out = execFileSync(file as string, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const last = out.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Measurement;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Row {
  readonly name: string;
  readonly ms: number;
  readonly peakMb: number;
  readonly timeRatio: number;
  readonly memRatio: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Measures every case of a suite `runs` times (interleaved) and prints the table. */
export function runSuite(suiteFile: string, suite: BenchSuite, runs: number): Row[] {
  const samples = new Map<string, Measurement[]>();
  for (let i = 0; i < runs; i++) {
    for (const bcase of suite.cases) {
      const m = measure(suiteFile, bcase);
      if (m === undefined) continue;
      const list = samples.get(bcase.name) ?? [];
      list.push(m);
      samples.set(bcase.name, list);
    }
  }
  const medians = suite.cases.flatMap((bcase) => {
    const list = samples.get(bcase.name);
    if (list === undefined) return [];
    const metrics: Record<string, number> = {};
    for (const name of new Set(list.flatMap((m) => Object.keys(m.metrics ?? {})))) {
      metrics[name] = median(list.flatMap((m) => m.metrics?.[name] ?? []));
    }
    return [
      {
        bcase,
        ms: median(list.map((m) => m.ms)),
        peakMb: median(list.map((m) => m.peakMb)),
        metrics,
      },
    ];
  });
  const base = medians.find((m) => m.bcase.baseline === true) ?? medians[0];
  const rows = medians.map((m) => ({
    name: m.bcase.name,
    ms: m.ms,
    peakMb: m.peakMb,
    timeRatio: base === undefined ? 1 : m.ms / base.ms,
    memRatio: base === undefined || base.peakMb <= 0 ? Number.NaN : m.peakMb / base.peakMb,
    metrics: m.metrics,
  }));
  printTable(suite, rows, runs);
  return rows;
}

function printTable(suite: BenchSuite, rows: readonly Row[], runs: number): void {
  const width = Math.max(10, ...rows.map((r) => r.name.length));
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const perSecond = suite.items === undefined ? "" : `  ${"items/s".padStart(9)}`;
  const extraHead = extra.map((name) => `  ${name.padStart(Math.max(9, name.length))}`).join("");
  console.log(`\n## ${suite.title}  (median of ${runs} runs, each in a fresh process)\n`);
  console.log(
    `${"case".padEnd(width)}  ${"time ms".padStart(10)}  ${"× base".padStart(7)}${perSecond}  ${"peak MB".padStart(8)}  ${"× base".padStart(7)}${extraHead}`,
  );
  for (const r of rows) {
    const memRatio = Number.isFinite(r.memRatio) ? r.memRatio.toFixed(2) : "-";
    const rate =
      suite.items === undefined
        ? ""
        : `  ${Math.round((suite.items * 1000) / r.ms)
            .toString()
            .padStart(9)}`;
    const cells = extra
      .map((name) => {
        const value = r.metrics[name];
        const text = value === undefined ? "-" : value.toFixed(1);
        return `  ${text.padStart(Math.max(9, name.length))}`;
      })
      .join("");
    console.log(
      `${r.name.padEnd(width)}  ${r.ms.toFixed(1).padStart(10)}  ${r.timeRatio.toFixed(2).padStart(7)}${rate}  ${r.peakMb.toFixed(1).padStart(8)}  ${memRatio.padStart(7)}${cells}`,
    );
  }
  if (suite.target !== undefined) console.log(`\ntarget: ${suite.target}`);
}
