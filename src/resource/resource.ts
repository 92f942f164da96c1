import { noop } from "../_internal/abort.js";
import { describe, expectFunction } from "../_internal/describe.js";
import { SuppressedError } from "./suppressed-error.js";

/**
 * What a {@link resource} factory resolves to: the acquired `value`, and the
 * cleanup as `Symbol.asyncDispose`, so `await using` releases it on every path.
 */
export interface ResourceHandle<T> extends AsyncDisposable {
  /** The acquired resource. Still readable after disposal (e.g. to check it was closed). */
  readonly value: T;
  /** True once disposal has started. */
  readonly disposed: boolean;
  /**
   * Releases the resource (the same as `[Symbol.asyncDispose]()`). Rejects with
   * the release's error. Idempotent: later calls wait for the first, then
   * resolve.
   */
  disposeAsync(): Promise<void>;
}

/** A function made by {@link resource}: acquires with `args`, resolves to the handle. */
export type ResourceFactory<A extends readonly unknown[], T> = (
  ...args: A
) => Promise<ResourceHandle<T>>;

class Handle<T> implements ResourceHandle<T> {
  readonly #value: T;
  #release: (() => Promise<void>) | undefined;
  #disposing: Promise<void> | undefined;

  constructor(value: T, release: () => Promise<void>) {
    this.#value = value;
    this.#release = release;
  }

  get value(): T {
    return this.#value;
  }

  get disposed(): boolean {
    return this.#release === undefined;
  }

  disposeAsync(): Promise<void> {
    const release = this.#release;
    if (release === undefined) return this.#disposing ?? Promise.resolve();
    this.#release = undefined;
    const disposing = release();
    // Later calls wait for the first, but its error is the first caller's to handle.
    this.#disposing = disposing.then(noop, noop);
    return disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync();
  }

  toString(): string {
    return `<ResourceHandle ${this.disposed ? "disposed" : "active"}>`;
  }
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown, undefined> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { next?: unknown }).next === "function" &&
    typeof (value as { return?: unknown }).return === "function" &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

async function fromGenerator<T>(
  generator: AsyncGenerator<T, unknown, undefined>,
): Promise<ResourceHandle<T>> {
  const first = await generator.next();
  if (first.done === true) {
    throw new Error("Cannot acquire the resource: the generator returned without yielding a value");
  }
  return new Handle(first.value, async () => {
    const next = await generator.next();
    if (next.done === true) return;
    // Yielded twice: still run its cleanup (its finally blocks), then report the misuse.
    const misuse = new Error(
      "Cannot release the resource: the generator yielded a second value instead of finishing",
    );
    try {
      await generator.return(undefined);
    } catch (error) {
      throw new SuppressedError(error, misuse, "An error was suppressed during disposal");
    }
    throw misuse;
  });
}

/**
 * Turns an acquire/release pair, or an async generator, into a function that
 * acquires a resource and resolves to a {@link ResourceHandle}: the
 * `@asynccontextmanager` of aiokit. `await using` then releases the resource
 * whatever happens in the block.
 *
 * - `resource(acquire, release)`: `acquire(...args)` makes the value;
 *   `release(value)` runs at disposal.
 * - `resource(async function* (...args) { … yield value; … })`: the code before
 *   `yield` acquires, the code after it (and any `finally`) releases. A
 *   generator that returns without yielding fails the acquisition; one that
 *   yields a second time is closed (its `finally` runs) and disposal rejects.
 *
 * Errors: when acquiring fails, the factory rejects and nothing is released.
 * When releasing fails, disposal rejects with that error (under `await using`,
 * wrapped in a `SuppressedError` if the block threw too). Cancellation: pass a
 * signal among `args` and use it while acquiring; disposal itself runs to the
 * end.
 *
 * Warning: unlike Python's `async with`, `await using` does not tell the
 * disposer whether the block threw, so the generator is never thrown into:
 * the code after `yield` runs on success and on failure alike. Put
 * commit-only-on-success logic in the block, not after the `yield`.
 *
 * @example
 * ```ts
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { resource } from "aiokit";
 * const openConn = resource(
 *   (url: string) => connect(url),
 *   (conn) => conn.close(),
 * );
 * {
 *   await using conn = await openConn("db://local");
 *   await conn.value.query("select 1");
 * } // conn.close() has run here, even if the query threw
 *
 * const tempDir = resource(async function* (prefix: string) {
 *   const dir = await mkdtemp(prefix);
 *   try {
 *     yield dir;
 *   } finally {
 *     await rm(dir, { recursive: true });
 *   }
 * });
 * await using dir = await tempDir("/tmp/job-");
 * ```
 */
export function resource<A extends readonly unknown[], T>(
  acquire: (...args: A) => T | PromiseLike<T>,
  release: (value: Awaited<T>) => unknown,
): ResourceFactory<A, Awaited<T>>;
export function resource<A extends readonly unknown[], T>(
  generator: (...args: A) => AsyncGenerator<T, unknown, undefined>,
): ResourceFactory<A, T>;
export function resource<A extends readonly unknown[], T>(
  acquire: (...args: A) => T | PromiseLike<T> | AsyncGenerator<T, unknown, undefined>,
  release?: (value: T) => unknown,
): ResourceFactory<A, T> {
  expectFunction("`acquire`", acquire);
  if (release === undefined) {
    return async (...args: A) => {
      const generator = acquire(...args);
      if (!isAsyncGenerator(generator)) {
        throw new TypeError(
          `Expected the resource function to return an async generator (or a release function to be given), got ${describe(generator)}`,
        );
      }
      return fromGenerator(generator as AsyncGenerator<T, unknown, undefined>);
    };
  }
  expectFunction("`release`", release);
  return async (...args: A) => {
    const value = (await acquire(...args)) as T;
    return new Handle(value, async () => {
      await release(value);
    });
  };
}
