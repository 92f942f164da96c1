/**
 * `SuppressedError` of the TC39 explicit resource management proposal: the
 * runtime's own where it has one, else a spec-exact stand-in (Node 20 has none).
 * @module
 */

/**
 * An error thrown while another error was already propagating: `error` is the
 * new one, `suppressed` the one it hides. Chains nest, newest outside.
 */
export interface SuppressedError extends Error {
  /** The error thrown last. */
  error: unknown;
  /** The error that was propagating when `error` was thrown. */
  suppressed: unknown;
}

/** The type of the {@link SuppressedError} constructor (callable with or without `new`). */
export interface SuppressedErrorConstructor {
  new (error: unknown, suppressed: unknown, message?: string): SuppressedError;
  (error: unknown, suppressed: unknown, message?: string): SuppressedError;
  readonly prototype: SuppressedError;
}

function defineHidden(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// The proposal's steps: OrdinaryCreateFromConstructor(NewTarget) with
// [[ErrorData]] (hence Reflect.construct on Error), then "message" if one was
// given, then "error" and "suppressed", all non-enumerable own data properties.
const Polyfill = function SuppressedError(
  error: unknown,
  suppressed: unknown,
  message?: string,
): SuppressedError {
  const newTarget = new.target ?? Polyfill;
  const instance = Reflect.construct(
    Error,
    message === undefined ? [] : [message],
    newTarget,
  ) as SuppressedError;
  // GetPrototypeFromConstructor: a newTarget whose "prototype" is not an
  // object gives %SuppressedError.prototype%, where Error's fallback gave
  // %Error.prototype% (test262's proto-from-ctor-realm). An abrupt getter
  // already threw above, before the message was read.
  const proto: unknown = newTarget.prototype;
  if (proto === null || (typeof proto !== "object" && typeof proto !== "function")) {
    Object.setPrototypeOf(instance, Polyfill.prototype);
  }
  defineHidden(instance, "error", error);
  defineHidden(instance, "suppressed", suppressed);
  return instance;
} as SuppressedErrorConstructor;

Object.setPrototypeOf(Polyfill, Error);
Object.defineProperty(Polyfill, "prototype", {
  value: Object.create(Error.prototype, {
    constructor: { value: Polyfill, writable: true, enumerable: false, configurable: true },
    name: { value: "SuppressedError", writable: true, enumerable: false, configurable: true },
    message: { value: "", writable: true, enumerable: false, configurable: true },
  }),
  writable: false,
});

const native = (globalThis as { SuppressedError?: unknown }).SuppressedError;

/**
 * The error that {@link AsyncExitStack} (like `await using` and the TC39
 * `AsyncDisposableStack`) throws when a disposer fails while an earlier error
 * is already propagating: `error` is the later error, `suppressed` the earlier
 * one, so a chain of failures nests with the newest outside. This is the
 * runtime's own `SuppressedError` when it has one; else a stand-in that follows
 * the proposal exactly (callable with or without `new`, subclassable,
 * `error`/`suppressed`/`message` as non-enumerable own properties).
 *
 * @example
 * ```ts
 * import { AsyncExitStack, SuppressedError } from "aiokit";
 * const stack = new AsyncExitStack();
 * stack.defer(() => { throw new Error("first registered, runs last"); });
 * stack.defer(() => { throw new Error("runs first"); });
 * try {
 *   await stack.disposeAsync();
 * } catch (e) {
 *   if (e instanceof SuppressedError) {
 *     console.log(e.error);      // Error: first registered, runs last
 *     console.log(e.suppressed); // Error: runs first
 *   }
 * }
 * ```
 */
export const SuppressedError: SuppressedErrorConstructor =
  typeof native === "function" ? (native as SuppressedErrorConstructor) : Polyfill;
