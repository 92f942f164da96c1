/**
 * Latency percentiles in flat memory: a log-linear histogram (like HdrHistogram,
 * about 1% relative error) instead of keeping every sample.
 */
const SUB_BUCKETS = 64; // per power of two: ~1.1% resolution

export class Histogram {
  readonly #counts = new Map<number, number>();
  #total = 0;
  #max = 0;

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  record(value: number): void {
    const v = Math.max(0, value);
    const key = bucketOf(v);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#total++;
    if (v > this.#max) this.#max = v;
  }

  /** The value at percentile `p` (0–100); 0 when empty. */
  percentile(p: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    let seen = 0;
    for (const key of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(key) ?? 0;
      if (seen >= rank) return Math.min(upperEdgeOf(key), this.#max);
    }
    return this.#max;
  }
}

function bucketOf(v: number): number {
  if (v < 1) return Math.floor(v * SUB_BUCKETS) - SUB_BUCKETS * 64; // sub-millisecond: linear
  const exp = Math.floor(Math.log2(v));
  const sub = Math.floor((v / 2 ** exp - 1) * SUB_BUCKETS);
  return exp * SUB_BUCKETS + sub;
}

function upperEdgeOf(key: number): number {
  if (key < 0) return (key + SUB_BUCKETS * 64 + 1) / SUB_BUCKETS;
  const exp = Math.floor(key / SUB_BUCKETS);
  const sub = key - exp * SUB_BUCKETS;
  return 2 ** exp * (1 + (sub + 1) / SUB_BUCKETS);
}
