import { describe } from "../_internal/describe.js";
import { SuppressedError } from "./suppressed-error.js";

/** One registered disposer: `method` is called with `this` = `value`. */
interface Entry {
  readonly value: unknown;
  /** Undefined for a `null`/`undefined` passed to `use()`: nothing to call, but still an await. */
  readonly method: ((this: unknown) => unknown) | undefined;
}

type Method = (this: unknown) => unknown;

// GetMethod(V, P): undefined and null mean "none"; anything else must be callable.
function getMethod(value: object, key: symbol): Method | undefined {
  const method: unknown = (value as Record<symbol, unknown>)[key];
  if (method === undefined || method === null) return undefined;
  if (typeof method !== "function") {
    throw new TypeError(
      `Cannot use a value in an AsyncExitStack: its ${String(key)} is not a function, got ${describe(method)}`,
    );
  }
  return method as Method;
}

// GetDisposeMethod(V, async-dispose): Symbol.asyncDispose, else Symbol.dispose
// wrapped so that its result is ignored (a sync disposer's return value is not
// awaited) and a throw becomes a rejection.
function getDisposeMethod(value: object): Method | undefined {
  const asyncMethod = getMethod(value, Symbol.asyncDispose);
  if (asyncMethod !== undefined) return asyncMethod;
  const syncMethod = getMethod(value, Symbol.dispose);
  if (syncMethod === undefined) return undefined;
  return function (this: unknown): Promise<void> {
    try {
      syncMethod.call(this);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

let isStack: (value: unknown) => value is AsyncExitStack;

function disposedError(action: string): ReferenceError {
  return new ReferenceError(`Cannot ${action}: the AsyncExitStack is already disposed`);
}

/**
 * A stack of async cleanups that run in reverse order, as one: Python's
 * `contextlib.AsyncExitStack` and the TC39 `AsyncDisposableStack` in one.
 * Collect resources whose number or kind is known only at run time, then
 * dispose them all with `await using` or {@link AsyncExitStack.disposeAsync}.
 *
 * Disposal follows the TC39 proposal exactly: disposers run one after another
 * in reverse order of registration, each awaited; every one runs even when an
 * earlier one throws; the first failure is thrown as is, and each further one
 * wraps the error so far in a {@link SuppressedError} (`error` = the new
 * failure, `suppressed` = the one before). Once disposed (or moved), the stack
 * refuses new entries with a `ReferenceError`; disposing again does nothing.
 *
 * Note: disposal is not cancellable: every disposer runs to its end. Give a
 * disposer its own time limit if it can hang.
 *
 * When the runtime has a native `AsyncDisposableStack`, the two interoperate:
 * each is `AsyncDisposable`, so each can `use()` the other.
 *
 * @example
 * ```ts
 * import { open } from "node:fs/promises";
 * import { AsyncExitStack } from "aiokit";
 * {
 *   await using stack = new AsyncExitStack();
 *   const conns = [];
 *   for (const url of urls) conns.push(stack.use(await connect(url))); // each is AsyncDisposable
 *   const file = stack.adopt(await open(path), (f) => f.close());
 *   stack.defer(() => console.log("all closed"));
 *   await work(conns, file);
 * } // logs "all closed", closes the file, then every connection (last opened first)
 * ```
 */
export class AsyncExitStack implements AsyncDisposable {
  #entries: Entry[] = [];
  #disposed = false;

  /** `await using stack = new AsyncExitStack()`: the same function as {@link AsyncExitStack.disposeAsync}. */
  declare [Symbol.asyncDispose]: () => Promise<void>;

  /** True once the stack was disposed or its entries were moved away. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Registers `value` for disposal and returns it: its `Symbol.asyncDispose`
   * method, else its `Symbol.dispose`. `null` and `undefined` are accepted
   * and ignored (as `await using x = null` is).
   *
   * @throws TypeError when `value` is neither null, undefined, nor an object
   *   with a dispose method; ReferenceError when the stack is disposed.
   */
  use<T extends AsyncDisposable | Disposable | null | undefined>(value: T): T {
    if (this.#disposed) throw disposedError("use a resource");
    if (value === null || value === undefined) {
      this.#entries.push({ value: undefined, method: undefined });
      return value;
    }
    if (typeof value !== "object" && typeof value !== "function") {
      throw new TypeError(
        `Cannot use a value in an AsyncExitStack: expected an object with Symbol.asyncDispose or Symbol.dispose, got ${describe(value)}`,
      );
    }
    const method = getDisposeMethod(value);
    if (method === undefined) {
      throw new TypeError(
        "Cannot use a value in an AsyncExitStack: it has neither Symbol.asyncDispose nor Symbol.dispose",
      );
    }
    this.#entries.push({ value, method });
    return value;
  }

  /**
   * Registers `onDisposeAsync(value)` to run at disposal and returns `value`:
   * for resources that are not `AsyncDisposable` themselves.
   *
   * @throws TypeError when `onDisposeAsync` is not a function; ReferenceError
   *   when the stack is disposed.
   */
  adopt<T>(value: T, onDisposeAsync: (value: T) => unknown): T {
    if (this.#disposed) throw disposedError("adopt a resource");
    expectCallback(onDisposeAsync);
    this.#entries.push({ value: undefined, method: () => onDisposeAsync(value) });
    return value;
  }

  /**
   * Registers `onDisposeAsync()` to run at disposal (Python's
   * `push_async_callback`, Go's `defer`).
   *
   * @throws TypeError when `onDisposeAsync` is not a function; ReferenceError
   *   when the stack is disposed.
   */
  defer(onDisposeAsync: () => unknown): void {
    if (this.#disposed) throw disposedError("defer a callback");
    expectCallback(onDisposeAsync);
    this.#entries.push({ value: undefined, method: onDisposeAsync as Method });
  }

  /**
   * Moves every registered entry to a new stack and returns it; this stack
   * becomes disposed (and so disposes nothing). Python's `pop_all()`: build up
   * resources under `await using`, then hand them on when all succeeded.
   *
   * @example
   * ```ts
   * import { AsyncExitStack } from "aiokit";
   * async function openBoth(): Promise<AsyncExitStack> {
   *   await using stack = new AsyncExitStack();
   *   stack.use(await connect(a));
   *   stack.use(await connect(b)); // if this throws, `a` is closed
   *   return stack.move(); // success: the caller owns both now
   * }
   * ```
   * @throws ReferenceError when the stack is disposed.
   */
  move(): AsyncExitStack {
    if (this.#disposed) throw disposedError("move the entries");
    const moved = new AsyncExitStack();
    moved.#entries = this.#entries;
    this.#entries = [];
    this.#disposed = true;
    return moved;
  }

  /**
   * Disposes every entry, last registered first, and waits for each. Rejects
   * with the only failure, or with the {@link SuppressedError} chain of all of
   * them. Calling it again (even while the first call runs) resolves at once,
   * as the proposal specifies.
   */
  async disposeAsync(): Promise<void> {
    if (!isStack(this)) {
      throw new TypeError(
        `Cannot dispose: expected an AsyncExitStack as \`this\`, got ${describe(this)}`,
      );
    }
    if (this.#disposed) return;
    this.#disposed = true;
    const entries = this.#entries;
    this.#entries = [];
    // DisposeResources(disposeCapability, NormalCompletion(undefined)).
    let failed = false;
    let completion: unknown;
    let needsAwait = false;
    let hasAwaited = false;
    for (let i = entries.length - 1; i >= 0; i--) {
      const { value, method } = entries[i] as Entry;
      if (method === undefined) {
        needsAwait = true;
        continue;
      }
      try {
        const result = method.call(value);
        hasAwaited = true;
        await result;
      } catch (error) {
        completion = failed
          ? new SuppressedError(error, completion, "An error was suppressed during disposal")
          : error;
        failed = true;
      }
    }
    if (needsAwait && !hasAwaited) await undefined;
    if (failed) throw completion;
  }

  /** `<AsyncExitStack entries=2>` or `<AsyncExitStack disposed>`, for logs. */
  toString(): string {
    return this.#disposed
      ? "<AsyncExitStack disposed>"
      : `<AsyncExitStack entries=${this.#entries.length}>`;
  }

  static {
    // The proposal makes [Symbol.asyncDispose] the very same function as disposeAsync.
    Object.defineProperty(AsyncExitStack.prototype, Symbol.asyncDispose, {
      value: AsyncExitStack.prototype.disposeAsync,
      writable: true,
      enumerable: false,
      configurable: true,
    });
    Object.defineProperty(AsyncExitStack.prototype, Symbol.toStringTag, {
      value: "AsyncExitStack",
      writable: false,
      enumerable: false,
      configurable: true,
    });
    // Brand check, so `disposeAsync.call(other)` rejects as the proposal says.
    isStack = (value) => typeof value === "object" && value !== null && #disposed in value;
  }
}

function expectCallback(value: unknown): void {
  if (typeof value !== "function") {
    throw new TypeError(`Expected the disposal callback to be a function, got ${describe(value)}`);
  }
}
