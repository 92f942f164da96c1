/**
 * Type-level tests for the throughput API: inference in, inference out, and
 * options the compiler must reject. They fail at `npm run compile`; the one
 * runtime test only keeps the file a test.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import {
  type KeyedLimit,
  keyedLimiter,
  limiter,
  map,
  merge,
  RateLimiter,
  retry,
  type Stream,
  stream,
  zip,
} from "../../src/index.js";

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T>(_value: T): void {}
function assertType<_T extends true>(): void {}

async function inference(): Promise<void> {
  // map: items of iterables (promises unwrapped) and async iterables; results awaited.
  const doubled = await map([1, 2], async (x) => x * 2, { concurrency: 2 });
  assertType<Equal<typeof doubled, number[]>>();
  const fromPromises = await map([Promise.resolve("a")], (s) => s.length, { concurrency: 1 });
  assertType<Equal<typeof fromPromises, number[]>>();
  async function* gen(): AsyncGenerator<string> {
    yield "x";
  }
  const fromAsync = await map(gen(), (s, i, signal) => ({ s, i, signal }), { concurrency: 1 });
  assertType<Equal<typeof fromAsync, { s: string; i: number; signal: AbortSignal }[]>>();
  const settled = await map([1], (x) => String(x), { concurrency: 1, settle: true });
  assertType<Equal<typeof settled, PromiseSettledResult<string>[]>>();

  // limiter and keyedLimiter keep fn's result type.
  const limit = limiter(2);
  const n = await limit(async () => 42);
  assertType<Equal<typeof n, number>>();
  const byHost: KeyedLimit<string> = keyedLimiter<string>({ perKey: 2 });
  const text = await byHost("example.com", () => "body");
  assertType<Equal<typeof text, string>>();

  // retry and RateLimiter.run
  const value = await retry(async (attempt) => attempt > 1);
  assertType<Equal<typeof value, boolean>>();
  const ran = await new RateLimiter({ limit: 1, interval: 1 }).run(() => [1] as const);
  assertType<Equal<typeof ran, readonly [1]>>();

  // Streams: operators change the item type; zip gives tuples; merge a union.
  const s = stream([1, 2, 3]);
  assertType<Equal<typeof s, Stream<number>>>();
  const strings = s.map(async (x) => String(x), { concurrency: 4 });
  assertType<Equal<typeof strings, Stream<string>>>();
  const flat = s.flatMap((x) => [x, String(x)]);
  assertType<Equal<typeof flat, Stream<number | string>>>();
  const onlyNumbers = stream<number | string>([1, "a"]).filter(
    (x): x is number => typeof x === "number",
  );
  assertType<Equal<typeof onlyNumbers, Stream<number>>>();
  const batches = s.batch(2);
  assertType<Equal<typeof batches, Stream<number[]>>>();
  const pairs = zip([1], gen(), stream([true]));
  assertType<Equal<typeof pairs, Stream<[number, string, boolean]>>>();
  const mixed = merge([1], gen());
  assertType<Equal<typeof mixed, Stream<number | string>>>();
  const recovered = s.catch(() => ["fallback"]);
  assertType<Equal<typeof recovered, Stream<number | string>>>();
  const total = await s.reduce((sum, x) => sum + x, 0);
  assertType<Equal<typeof total, number>>();
  const found = await s.find((x) => x > 1);
  assertType<Equal<typeof found, number | undefined>>();
  expectType<ReadableStream<number>>(s.toReadableStream());
}

function rejected(): void {
  // @ts-expect-error map needs its options (concurrency is required)
  void map([1], (x) => x);
  // @ts-expect-error concurrency is a number
  void map([1], (x) => x, { concurrency: "4" });
  // @ts-expect-error limit() takes a function
  void limiter(1)(42);
  // @ts-expect-error perKey is required
  keyedLimiter({ concurrency: 4 });
  // @ts-expect-error RateLimiter needs limit and interval
  new RateLimiter({ limit: 1 });
  // @ts-expect-error the stream's source must be iterable
  stream(42);
  // @ts-expect-error ordered is a boolean
  stream([1]).map((x) => x, { ordered: "yes" });
}

it("type-level tests compile", () => {
  assert.equal(typeof inference, "function");
  assert.equal(typeof rejected, "function");
});
