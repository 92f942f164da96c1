/**
 * Where a Stream's items end up: the terminal methods (`toArray`, `reduce`,
 * `some`, `every`, `find`, `forEach`'s loop) run one iteration to its end,
 * and `toReadableStream` hands it to the web's streams.
 * @module
 */
import { noop } from "../_internal/abort.js";
import { expectFunction, expectSignal } from "../_internal/describe.js";
import { isThenable } from "../_internal/thenable.js";

/** Opens one iteration; `extra` is the terminal method's signal. */
export type Open<T> = (extra: AbortSignal | undefined) => AsyncIterator<T>;

/**
 * Runs one iteration to the end, or until `onItem` returns false, closing it
 * if it stops early (or `onItem` throws).
 */
export async function consume<T>(
  open: Open<T>,
  signal: AbortSignal | undefined,
  onItem: (item: T, index: number) => boolean | PromiseLike<boolean>,
): Promise<void> {
  expectSignal(signal);
  if (signal?.aborted) throw signal.reason;
  const iterator = open(signal);
  let index = 0;
  for (;;) {
    const result = await iterator.next();
    if (result.done === true) return;
    let go: boolean | PromiseLike<boolean>;
    try {
      go = onItem(result.value, index++);
      if (isThenable(go)) go = await go;
    } catch (error) {
      await iterator.return?.().catch(noop);
      throw error;
    }
    if (!go) {
      await iterator.return?.();
      return;
    }
  }
}

export async function toArray<T>(open: Open<T>, signal: AbortSignal | undefined): Promise<T[]> {
  const items: T[] = [];
  await consume(open, signal, (item) => {
    items.push(item);
    return true;
  });
  return items;
}

/** `rest` is `[initial?, options?]`, as `Stream.reduce` received them. */
export async function reduce<T>(
  open: Open<T>,
  reducer: (accumulator: never, item: T, index: number) => unknown,
  rest: unknown[],
): Promise<unknown> {
  expectFunction("`fn`", reducer);
  const fn = reducer as (accumulator: unknown, item: T, index: number) => unknown;
  let has = rest.length > 0;
  let accumulator = rest[0];
  const options = rest[1] as { readonly signal?: AbortSignal | undefined } | undefined;
  await consume(open, options?.signal, async (item, index) => {
    if (!has) {
      has = true;
      accumulator = item;
      return true;
    }
    accumulator = await fn(accumulator, item, index);
    return true;
  });
  if (!has) throw new TypeError("Cannot reduce an empty stream without an initial value");
  return accumulator;
}

/** The first item for which `fn` is truthy (or undefined), closing the rest. */
export async function find<T>(
  open: Open<T>,
  fn: (item: T, index: number) => unknown,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  expectFunction("`fn`", fn);
  let found: T | undefined;
  await consume(open, signal, async (item, index) => {
    if (!(await fn(item, index))) return true;
    found = item;
    return false;
  });
  return found;
}

/** `some` (`want` true) or `every` (`want` false): stops at the first item whose test is `want`. */
export async function test<T>(
  open: Open<T>,
  fn: (item: T, index: number) => unknown,
  signal: AbortSignal | undefined,
  want: boolean,
): Promise<boolean> {
  expectFunction("`fn`", fn);
  let last = !want;
  await consume(open, signal, async (item, index) => {
    last = Boolean(await fn(item, index));
    return last !== want;
  });
  return last;
}

/** A ReadableStream pulling one iteration lazily; cancelling it closes the iteration. */
export function toReadableStream<T>(open: Open<T>): ReadableStream<T> {
  let iterator: AsyncIterator<T> | undefined;
  return new ReadableStream<T>(
    {
      pull: async (controller) => {
        iterator ??= open(undefined);
        const result = await iterator.next();
        if (result.done === true) controller.close();
        else controller.enqueue(result.value);
      },
      cancel: async () => {
        await iterator?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
