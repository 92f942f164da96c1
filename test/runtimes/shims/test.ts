/**
 * A small stand-in for `node:test`, for the runtimes that run the core's tests
 * from one bundle (Bun, Deno, the browser): `describe`/`it`/`test`, the four
 * hooks, `{ skip, todo, timeout }` options and the parts of the test context
 * the core's tests use. Files are registered one by one with {@link loadFile};
 * {@link runAll} then runs every test in order, one at a time, and returns the
 * counts. A test that calls a Node-only stand-in (see `node-only.ts`) is
 * counted as skipped with the module's name, not as failed.
 */

type Body = (t: TestContext) => unknown;
type Hook = () => unknown;

/** The options of `it(name, options, fn)` that the core's tests use. */
export interface TestOptions {
  readonly skip?: boolean | string;
  readonly todo?: boolean | string;
  readonly timeout?: number;
}

interface Suite {
  readonly name: string;
  readonly parent: Suite | undefined;
  readonly file: string;
  readonly children: (Suite | Case)[];
  readonly before: Hook[];
  readonly after: Hook[];
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
  readonly skip: string | undefined;
}

interface Case {
  readonly name: string;
  readonly parent: Suite;
  readonly body: Body | undefined;
  readonly options: TestOptions;
}

/** What a test's body gets as `t`. */
export interface TestContext {
  readonly name: string;
  readonly fullName: string;
  readonly signal: AbortSignal;
  skip(message?: string): void;
  todo(message?: string): void;
  diagnostic(message: string): void;
  after(fn: Hook): void;
}

/** Thrown by the Node-only stand-ins: the test needs a Node module this runtime lacks. */
export class NodeOnlyError extends Error {
  override name = "NodeOnlyError";
  constructor(readonly module: string) {
    super(`${module} is Node-only: this test cannot run here`);
  }
}

/** The result of {@link runAll}. */
export interface Counts {
  pass: number;
  fail: number;
  skip: number;
  /** Skipped tests by reason ("node:stream", "skip: <message>"…). */
  readonly skipped: Record<string, number>;
  readonly failures: string[];
}

const DEFAULT_TIMEOUT = 30_000;
const roots: Suite[] = [];
let current: Suite | undefined;
let out: (line: string) => void = (line) => console.log(line);

function newSuite(name: string, parent: Suite | undefined, file: string, skip?: string): Suite {
  return {
    name,
    parent,
    file,
    children: [],
    before: [],
    after: [],
    beforeEach: [],
    afterEach: [],
    skip,
  };
}

function args(
  a: string | TestOptions | Body | undefined,
  b: TestOptions | Body | undefined,
  c: Body | undefined,
): { name: string; options: TestOptions; fn: Body | undefined } {
  let name = "<anonymous>";
  let rest: (TestOptions | Body | undefined)[] = [a as TestOptions | Body | undefined, b, c];
  if (typeof a === "string") {
    name = a;
    rest = [b, c];
  }
  const [first, second] = rest;
  if (typeof first === "function") return { name, options: {}, fn: first };
  return { name, options: first ?? {}, fn: second as Body | undefined };
}

function skipReason(value: boolean | string | undefined, kind: string): string | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? kind : `${kind}: ${value}`;
}

function here(): Suite {
  if (current === undefined) throw new Error("describe/it called outside a loaded test file");
  return current;
}

/** `node:test`'s `describe`: collects its body's tests now, runs them later. */
export function describe(
  a: string | TestOptions | (() => unknown),
  b?: TestOptions | (() => unknown),
  c?: () => unknown,
): void {
  const { name, options, fn } = args(a, b as Body | undefined, c as Body | undefined);
  const parent = here();
  const skip = parent.skip ?? skipReason(options.skip, "skip") ?? skipReason(options.todo, "todo");
  const suite = newSuite(name, parent, parent.file, skip);
  parent.children.push(suite);
  current = suite;
  try {
    (fn as (() => unknown) | undefined)?.();
  } finally {
    current = parent;
  }
}

/** `node:test`'s `it` / `test`. */
export function it(a: string | TestOptions | Body, b?: TestOptions | Body, c?: Body): void {
  const { name, options, fn } = args(a, b, c);
  const parent = here();
  parent.children.push({ name, parent, body: fn, options });
}

export const test = it;
export const suite = describe;
export const before = (fn: Hook): void => void here().before.push(fn);
export const after = (fn: Hook): void => void here().after.push(fn);
export const beforeEach = (fn: Hook): void => void here().beforeEach.push(fn);
export const afterEach = (fn: Hook): void => void here().afterEach.push(fn);

/**
 * Registers the tests of one file: `load` imports it while its top-level
 * `describe`/`it` calls are collected under the file's name.
 */
export async function loadFile(file: string, load: () => Promise<unknown>): Promise<void> {
  const root = newSuite(file, undefined, file);
  roots.push(root);
  current = root;
  try {
    await load();
  } catch (error) {
    root.children.length = 0;
    root.children.push({
      name: "loads",
      parent: root,
      body: () => {
        throw error;
      },
      options: {},
    });
  } finally {
    current = undefined;
  }
}

class Skip {
  constructor(readonly reason: string) {}
}

function fullName(s: Suite | Case): string {
  const names: string[] = [];
  for (let n: Suite | Case | undefined = s; n !== undefined; n = n.parent) names.unshift(n.name);
  return names.join(" › ");
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = (error.stack ?? `${error.name}: ${error.message}`).split("\n").slice(0, 8);
    if (!stack[0]?.includes(error.message)) stack.unshift(`${error.name}: ${error.message}`);
    return stack.join("\n      ");
  }
  return String(error);
}

/** Runs `fn` with a time limit; a promise it returns is awaited. */
async function timed(fn: () => unknown, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), limit]);
  } finally {
    clearTimeout(timer);
  }
}

let unhandled: unknown[] = [];

/** Call from the runtime's unhandled-rejection event: fails the test that is running. */
export function reportUnhandled(reason: unknown): void {
  unhandled.push(reason);
}

/** A Node global the browser lacks, used by the test's own code (not by aiokit's). */
const NODE_GLOBAL = /^(process|Buffer) is not defined$/;

function skipOf(error: unknown): string | undefined {
  if (error instanceof Skip) return error.reason;
  if (error instanceof NodeOnlyError) return error.module;
  if (error instanceof ReferenceError && NODE_GLOBAL.test(error.message)) {
    // Thrown from aiokit's dist/ it is a portability bug: a failure, not a skip.
    const frame = (error.stack ?? "").split("\n").find((l) => /^\s*at |@/.test(l)) ?? "";
    if (!frame.includes("/dist/")) return `Node global ${error.message.split(" ")[0]}`;
  }
  return undefined;
}

async function runCase(c: Case, counts: Counts, hooks: Suite[]): Promise<void> {
  const name = fullName(c);
  const skip =
    c.parent.skip ?? skipReason(c.options.skip, "skip") ?? skipReason(c.options.todo, "todo");
  if (skip !== undefined || c.body === undefined) {
    const reason = skip ?? "todo";
    counts.skip++;
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
    return;
  }
  const controller = new AbortController();
  const cleanups: Hook[] = [];
  const t: TestContext = {
    name: c.name,
    fullName: name,
    signal: controller.signal,
    skip: (message) => {
      throw new Skip(message === undefined ? "skip" : `skip: ${message}`);
    },
    todo: (message) => {
      throw new Skip(message === undefined ? "todo" : `todo: ${message}`);
    },
    diagnostic: (message) => out(`    # ${message}`),
    after: (fn) => void cleanups.push(fn),
  };
  let error: unknown;
  let failed = false;
  unhandled = [];
  try {
    for (const s of hooks)
      for (const h of s.beforeEach) await timed(h, DEFAULT_TIMEOUT, "beforeEach");
    const body = c.body;
    await timed(() => body(t), c.options.timeout ?? DEFAULT_TIMEOUT, "test");
  } catch (e) {
    error = e;
    failed = true;
  }
  controller.abort();
  try {
    for (const fn of cleanups.reverse()) await timed(fn, DEFAULT_TIMEOUT, "t.after");
    for (const s of [...hooks].reverse())
      for (const h of s.afterEach) await timed(h, DEFAULT_TIMEOUT, "afterEach");
  } catch (e) {
    if (!failed) error = e;
    failed = true;
  }
  // Let a rejection left behind by this test surface before the next one starts.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const skipped = failed ? skipOf(error) : undefined;
  if (skipped !== undefined) {
    counts.skip++;
    counts.skipped[skipped] = (counts.skipped[skipped] ?? 0) + 1;
  } else if (failed || unhandled.length > 0) {
    counts.fail++;
    const why = failed
      ? describeError(error)
      : `unhandled rejection: ${describeError(unhandled[0])}`;
    counts.failures.push(`${name}\n      ${why}`);
    out(`  ✖ ${name}\n      ${why}`);
  } else {
    counts.pass++;
  }
}

async function runSuite(s: Suite, counts: Counts, hooks: Suite[]): Promise<void> {
  const chain = [...hooks, s];
  if (s.skip === undefined) {
    try {
      for (const h of s.before) await timed(h, DEFAULT_TIMEOUT, "before");
    } catch (error) {
      // Like node:test: a failed `before` fails every test below it.
      const reason = skipOf(error);
      const all = countCases(s);
      if (reason !== undefined) {
        counts.skip += all;
        counts.skipped[reason] = (counts.skipped[reason] ?? 0) + all;
      } else {
        counts.fail += all;
        counts.failures.push(`${fullName(s)} (before)\n      ${describeError(error)}`);
        out(`  ✖ ${fullName(s)}: before hook failed, ${all} tests\n      ${describeError(error)}`);
      }
      return;
    }
  }
  for (const child of s.children) {
    if ("children" in child) await runSuite(child, counts, chain);
    else await runCase(child, counts, chain);
  }
  if (s.skip === undefined) {
    try {
      for (const h of s.after) await timed(h, DEFAULT_TIMEOUT, "after");
    } catch (error) {
      counts.fail++;
      counts.failures.push(`${fullName(s)} (after)\n      ${describeError(error)}`);
      out(`  ✖ ${fullName(s)}: after hook failed\n      ${describeError(error)}`);
    }
  }
}

function countCases(s: Suite): number {
  let n = 0;
  for (const child of s.children) n += "children" in child ? countCases(child) : 1;
  return n;
}

/** Runs every loaded file's tests in order; `print` gets the failures as they happen. */
export async function runAll(print: (line: string) => void): Promise<Counts> {
  out = print;
  const counts: Counts = { pass: 0, fail: 0, skip: 0, skipped: {}, failures: [] };
  for (const root of roots) await runSuite(root, counts, []);
  return counts;
}

export default { describe, it, test, suite, before, after, beforeEach, afterEach };
