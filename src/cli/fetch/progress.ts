/**
 * The fetch progress line on stderr (only when stderr is a terminal): done,
 * failed, in flight, rate and ETA, redrawn a few times a second.
 */
import type { Style } from "../style.js";

export interface ProgressCounts {
  readonly done: number;
  readonly failed: number;
  readonly inFlight: number;
  /** Of `done`, the lines a resumed run skipped (already done): not requests made, so not in the rate. */
  readonly skipped?: number;
  /** Total requests when known (a file whose lines were counted), else undefined. */
  readonly total: number | undefined;
}

export function formatProgress(
  counts: ProgressCounts,
  elapsedMs: number,
  width: number,
  style: Style,
): string {
  const finished = counts.done + counts.failed;
  const made = finished - (counts.skipped ?? 0);
  const rate = elapsedMs > 0 ? (made * 1000) / elapsedMs : 0;
  const parts = [
    style.green(`${counts.done} done`),
    counts.failed > 0 ? style.red(`${counts.failed} failed`) : `${counts.failed} failed`,
    `${counts.inFlight} in flight`,
    `${rate.toFixed(rate < 10 ? 1 : 0)}/s`,
  ];
  let bar = "";
  if (counts.total !== undefined && counts.total > 0) {
    const ratio = Math.min(1, finished / counts.total);
    const eta = rate > 0 ? (counts.total - finished) / rate : Number.POSITIVE_INFINITY;
    parts.push(`ETA ${formatDuration(eta * 1000)}`);
    const barWidth = Math.max(10, Math.min(40, width - 70));
    const filled = Math.round(ratio * barWidth);
    bar = `[${"█".repeat(filled)}${" ".repeat(barWidth - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% `;
  }
  return bar + parts.join(" · ");
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "--:--";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Redraws the progress line on a TTY stream (elsewhere only when asked to). */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #style: Style;
  readonly #started = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Draws only on a terminal, unless `always` (`--progress always`). */
  constructor(
    stream: NodeJS.WriteStream,
    style: Style,
    read: () => ProgressCounts,
    always = false,
  ) {
    this.#stream = stream;
    this.#style = style;
    if (stream.isTTY !== true && !always) return;
    this.#timer = setInterval(() => this.#draw(read()), 200);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write("\r\u001b[2K");
  }

  #draw(counts: ProgressCounts): void {
    const width = this.#stream.columns ?? 100;
    this.#stream.write(
      `\r\u001b[2K${formatProgress(counts, performance.now() - this.#started, width, this.#style)}`,
    );
  }
}
