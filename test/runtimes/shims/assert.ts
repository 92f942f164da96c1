/**
 * A small stand-in for `node:assert/strict` in the browser: the functions the
 * core's tests call, with Node's strict meaning (`Object.is`, deep equality
 * that compares prototypes, Map/Set/Date/RegExp/Error contents, and the
 * `expected` forms of `throws`/`rejects`: a class, a RegExp, a validator
 * function or an object of properties).
 */

export class AssertionError extends Error {
  override name = "AssertionError";
  constructor(
    message: string,
    readonly actual?: unknown,
    readonly expected?: unknown,
  ) {
    super(message);
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "object" && value !== null) {
    try {
      const text = JSON.stringify(value, (_k, v: unknown) =>
        typeof v === "bigint" ? `${v}n` : v instanceof Map ? [...v] : v instanceof Set ? [...v] : v,
      );
      return text === undefined
        ? String(value)
        : text.length > 300
          ? `${text.slice(0, 300)}…`
          : text;
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

function fail2(
  message: string | Error | undefined,
  fallback: string,
  a?: unknown,
  e?: unknown,
): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback, a, e);
}

function ownKeys(o: object): (string | symbol)[] {
  return Reflect.ownKeys(o).filter((k) => Object.prototype.propertyIsEnumerable.call(o, k));
}

function deep(a: unknown, b: unknown, seen: Map<object, object>): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp)
    return String(a) === String(b) && a.lastIndex === (b as RegExp).lastIndex;
  if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message) return false;
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !deep(v, m.get(k), seen)) return false;
  } else if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    outer: for (const v of a) {
      if (s.has(v)) continue;
      if (typeof v === "object" && v !== null) {
        for (const w of s) if (deep(v, w, seen)) continue outer;
      }
      return false;
    }
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const ka = ownKeys(a);
  const kb = ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
    if (
      !deep(
        (a as Record<string | symbol, unknown>)[k],
        (b as Record<string | symbol, unknown>)[k],
        seen,
      )
    )
      return false;
  }
  return true;
}

export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value)
    fail2(message, `The expression evaluated to a falsy value: ${show(value)}`, value, true);
}

export function equal(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!Object.is(actual, expected))
    fail2(
      message,
      `Expected values to be strictly equal:\n${show(actual)} !== ${show(expected)}`,
      actual,
      expected,
    );
}

export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected))
    fail2(
      message,
      `Expected "actual" to be strictly unequal to: ${show(expected)}`,
      actual,
      expected,
    );
}

export function deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!deep(actual, expected, new Map()))
    fail2(
      message,
      `Expected values to be strictly deep-equal:\nactual   ${show(actual)}\nexpected ${show(expected)}`,
      actual,
      expected,
    );
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (deep(actual, expected, new Map()))
    fail2(
      message,
      `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`,
      actual,
      expected,
    );
}

export function match(value: string, re: RegExp, message?: string | Error): void {
  if (typeof value !== "string" || !re.test(value))
    fail2(
      message,
      `The input did not match the regular expression ${re}. Input:\n${show(value)}`,
      value,
      re,
    );
}

export function doesNotMatch(value: string, re: RegExp, message?: string | Error): void {
  if (typeof value !== "string" || re.test(value))
    fail2(
      message,
      `The input was expected to not match the regular expression ${re}. Input:\n${show(value)}`,
      value,
      re,
    );
}

export function fail(message?: string | Error): never {
  return fail2(message, "Failed");
}

type Expected = RegExp | ((error: unknown) => unknown) | object | (new (...a: never[]) => unknown);

/** Node's checks of a thrown `error` against `expected`. */
function check(error: unknown, expected: Expected | undefined, message: string | undefined): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(error)))
      fail2(message, `The error ${show(error)} does not match ${expected}`, error, expected);
    return;
  }
  if (typeof expected === "function") {
    const proto = (expected as { prototype?: unknown }).prototype;
    if (proto !== undefined && (proto === Error.prototype || proto instanceof Error)) {
      if (!(error instanceof (expected as new () => unknown)))
        fail2(
          message,
          `The error is expected to be an instance of "${expected.name}". Received ${show(error)}`,
          error,
          expected,
        );
      return;
    }
    if ((expected as (e: unknown) => unknown)(error) !== true)
      fail2(
        message,
        `The validation function is expected to return "true". Received for ${show(error)}`,
        error,
        expected,
      );
    return;
  }
  if (typeof error !== "object" || error === null)
    fail2(message, `Expected an object error, got ${show(error)}`, error, expected);
  const keys = Reflect.ownKeys(expected);
  if (expected instanceof Error) keys.push("name", "message");
  for (const key of keys) {
    const want = (expected as Record<string | symbol, unknown>)[key];
    const got = (error as Record<string | symbol, unknown>)[key];
    if (want instanceof RegExp && typeof got === "string") {
      if (!want.test(got))
        fail2(
          message,
          `The error's ${String(key)} ${show(got)} does not match ${want}`,
          error,
          expected,
        );
    } else if (!deep(got, want, new Map())) {
      fail2(
        message,
        `The error's ${String(key)} differs:\nactual   ${show(got)}\nexpected ${show(want)}`,
        error,
        expected,
      );
    }
  }
}

function split(expected: Expected | string | undefined, message: string | undefined) {
  return typeof expected === "string"
    ? { expected: undefined, message: expected }
    : { expected, message };
}

export function throws(fn: () => unknown, expected?: Expected | string, message?: string): void {
  const x = split(expected, message);
  try {
    fn();
  } catch (error) {
    check(error, x.expected, x.message);
    return;
  }
  fail2(x.message, "Missing expected exception");
}

export function doesNotThrow(fn: () => unknown, message?: string): void {
  try {
    fn();
  } catch (error) {
    fail2(message, `Got unwanted exception: ${show(error)}`, error);
  }
}

export async function rejects(
  promise: Promise<unknown> | (() => Promise<unknown>),
  expected?: Expected | string,
  message?: string,
): Promise<void> {
  const x = split(expected, message);
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    check(error, x.expected, x.message);
    return;
  }
  fail2(x.message, "Missing expected rejection");
}

export async function doesNotReject(
  promise: Promise<unknown> | (() => Promise<unknown>),
  message?: string,
): Promise<void> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    fail2(message, `Got unwanted rejection: ${show(error)}`, error);
  }
}

export const strictEqual = equal;
export const notStrictEqual = notEqual;
export const deepStrictEqual = deepEqual;
export const notDeepStrictEqual = notDeepEqual;

const assert = Object.assign((value: unknown, message?: string | Error) => ok(value, message), {
  ok,
  equal,
  notEqual,
  deepEqual,
  notDeepEqual,
  strictEqual,
  notStrictEqual,
  deepStrictEqual,
  notDeepStrictEqual,
  match,
  doesNotMatch,
  fail,
  throws,
  doesNotThrow,
  rejects,
  doesNotReject,
  AssertionError,
  strict: undefined as unknown,
});
assert.strict = assert;
export default assert;
