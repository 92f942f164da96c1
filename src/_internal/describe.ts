/** Shows a received value in an error message: `0 (number)`, `"x" (string)`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `${JSON.stringify(value)} (string)`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${String(value)} (${typeof value})`;
}

/** Throws a `TypeError` unless `value` is a number ≥ `min` (finite unless `allowInfinity`). */
export function expectNumber(
  what: string,
  value: unknown,
  { min = 0, integer = false, allowInfinity = false } = {},
): asserts value is number {
  const ok =
    typeof value === "number" &&
    !Number.isNaN(value) &&
    value >= min &&
    (allowInfinity || Number.isFinite(value)) &&
    (!integer || Number.isInteger(value) || value === Number.POSITIVE_INFINITY);
  if (!ok) {
    const kind = integer ? "an integer" : "a number";
    throw new TypeError(
      `Expected ${what} to be ${kind} from ${min} and up, got ${describe(value)}`,
    );
  }
}

/** Throws a `TypeError` unless `value` is a function. */
export function expectFunction(
  what: string,
  value: unknown,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") {
    throw new TypeError(`Expected ${what} to be a function, got ${describe(value)}`);
  }
}

/** Throws a `TypeError` unless `value` is undefined or an `AbortSignal`. */
export function expectSignal(value: unknown): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(value)}`);
  }
}
