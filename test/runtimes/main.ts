/**
 * `npm run test:runtimes`: the core's own behaviour tests (every test file
 * that imports only the core, `aiokit/testing` and test helpers) on Node 22
 * and 24, Bun, Deno and headless Chromium. Each runtime prints its name and
 * its counts; any failure, or a runtime that cannot start, fails the run.
 *
 * Node runs the compiled tests with its own runner. The others run one bundle
 * of the same tests (see `bundle.ts`) against the built `dist/`. A test file
 * that imports a Node module other than test, assert, events, stream, v8 and
 * vm (child_process, http, net, fs…) is Node-only: skipped elsewhere, counted.
 *
 * The runtimes come from test/runtimes/package.json (`npm ci --prefix
 * test/runtimes`), Chromium from Debian (`apt-get install chromium`): see
 * `.ci/run`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundle, type Target } from "./bundle.js";

const root = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
const bin = join(root, "test", "runtimes", "node_modules");
/** Per runtime; the whole core suite takes well under a minute on each. */
const TIMEOUT_MS = Number(process.env.AIOKIT_RUNTIME_TIMEOUT_MS ?? 240_000);
/** AIOKIT_RUNTIMES=node22,bun… runs only those (for development); all by default. */
const ONLY = new Set((process.env.AIOKIT_RUNTIMES ?? "node22,node24,bun,deno,chromium").split(","));
/** Test folders that are not the core's (they import aiokit/node, the CLI, or the package). */
const NOT_CORE = /^test\/(node|cli|package|runtimes)\/|^test\/examples\.test\.ts$/;
/** Node modules every runtime here has, natively or as a stand-in. */
const PORTABLE = new Set([
  "node:test",
  "node:assert",
  "node:assert/strict",
  "node:events",
  "node:stream",
  "node:v8",
  "node:vm",
]);

interface Counts {
  pass: number;
  fail: number;
  skip: number;
  skipped: Record<string, number>;
}

interface CoreFile {
  readonly file: string;
  /** The Node modules that make it Node-only; empty when it runs everywhere. */
  readonly nodeOnly: readonly string[];
}

function walk(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : walk(path);
    return path.endsWith(".test.ts") ? [path] : [];
  });
}

/** The `node:` modules `file` imports, directly or through its relative test helpers. */
function imports(file: string, seen = new Set<string>()): { node: Set<string>; notCore: boolean } {
  const result = { node: new Set<string>(), notCore: false };
  if (seen.has(file)) return result;
  seen.add(file);
  const text = readFileSync(join(root, file), "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
    if (spec === undefined) continue;
    if (spec.startsWith("node:")) result.node.add(spec);
    else if (spec.startsWith(".")) {
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, ".ts");
      // The CLI, aiokit/node and aiokit/bullmq (ioredis, BullMQ) are Node-only: not the core.
      if (/^src\/(node|cli|bullmq)\//.test(target)) result.notCore = true;
      if (target.startsWith("src/") || !existsSync(join(root, target))) continue;
      const inner = imports(target, seen);
      for (const m of inner.node) result.node.add(m);
      result.notCore ||= inner.notCore;
    }
  }
  return result;
}

function coreFiles(): CoreFile[] {
  return walk("test")
    .filter((file) => !NOT_CORE.test(file))
    .sort()
    .flatMap((file) => {
      const { node, notCore } = imports(file);
      if (notCore) return [];
      return [{ file, nodeOnly: [...node].filter((m) => !PORTABLE.has(m)).sort() }];
    });
}

interface Run {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

function run(file: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(file, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      done({ code: null, output: `${output}${error.message}\n`, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, output, timedOut });
    });
  });
}

/** The `RESULT {...}` line a runner printed, and the output without it. */
function result<T>(output: string): { value: T | undefined; rest: string } {
  const at = output.lastIndexOf("RESULT {");
  if (at < 0) return { value: undefined, rest: output };
  const end = output.indexOf("\n", at);
  const line = output.slice(at + 7, end < 0 ? undefined : end);
  return {
    value: JSON.parse(line) as T,
    rest: output.slice(0, at) + output.slice(end < 0 ? output.length : end + 1),
  };
}

function binary(...path: string[]): string {
  const file = join(bin, ...path);
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: install the runtimes with \`npm ci --prefix test/runtimes\``,
    );
  }
  return file;
}

type PerFile = Record<string, { pass: number; fail: number; skip: number }>;

async function runNode(
  files: readonly CoreFile[],
  exe: string,
): Promise<{ counts: Counts; perFile: PerFile; log: string }> {
  const compiled = files.map((f) => join(root, ".build", f.file.replace(/\.ts$/, ".js")));
  const reporter = pathToFileURL(join(root, ".build/test/runtimes/node-reporter.js")).href;
  const r = await run(
    exe,
    [
      "--expose-gc",
      "--test",
      `--test-reporter=${reporter}`,
      "--test-reporter-destination=stdout",
      ...compiled,
    ],
    root,
  );
  const { value, rest } = result<PerFile>(r.output);
  const counts: Counts = { pass: 0, fail: 0, skip: 0, skipped: {} };
  const perFile: PerFile = {};
  for (const [path, c] of Object.entries(value ?? {})) {
    perFile[relative(join(root, ".build"), path).replace(/\.js$/, ".ts")] = c;
    counts.pass += c.pass;
    counts.fail += c.fail;
    counts.skip += c.skip;
  }
  if (value === undefined || (r.code !== 0 && counts.fail === 0)) counts.fail++;
  return { counts, perFile, log: r.timedOut ? `${rest}timed out after ${TIMEOUT_MS} ms\n` : rest };
}

/** The glue that runs the bundle in Bun or Deno and prints `RESULT {...}`. */
const SERVER_GLUE = `import { runAll, reportUnhandled } from "./bundle.mjs";
if (typeof Deno !== "undefined") {
  globalThis.addEventListener("unhandledrejection", (e) => { e.preventDefault(); reportUnhandled(e.reason); });
} else {
  process.on("unhandledRejection", reportUnhandled);
}
const counts = await runAll((line) => console.log(line));
console.log("RESULT " + JSON.stringify(counts));
`;

const BROWSER_PAGE = `<!doctype html><meta charset="utf-8"><title>aiokit core tests</title>
<script type="module">
// The tests use setImmediate as "let queued work run"; a MessageChannel tick, unclamped unlike setTimeout(0).
if (globalThis.setImmediate === undefined) {
  const queue = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => queue.shift()?.();
  globalThis.setImmediate = (fn, ...args) => { queue.push(() => fn(...args)); channel.port2.postMessage(0); };
}
try {
  const { runAll, reportUnhandled } = await import("/bundle.js");
  addEventListener("unhandledrejection", (e) => { e.preventDefault(); reportUnhandled(e.reason); });
  globalThis.__aiokitResult = await runAll((line) => console.log(line));
} catch (error) {
  globalThis.__aiokitResult = { error: String(error && error.stack || error) };
}
</script>`;

async function runServer(
  target: "bun" | "deno",
  files: readonly CoreFile[],
  dir: string,
): Promise<{ counts: Counts; log: string }> {
  const out = join(dir, target);
  await bundle({
    root,
    target,
    files: files.map((f) => f.file),
    distUrl: `${pathToFileURL(join(root, "dist")).href}/`,
    outfile: join(out, "bundle.mjs"),
  });
  writeFileSync(join(out, "run.mjs"), SERVER_GLUE);
  const r =
    target === "bun"
      ? await run(binary(".bin", "bun"), ["run.mjs"], out)
      : await run(
          binary(".bin", "deno"),
          [
            "run",
            "--quiet",
            "--no-config",
            "--no-prompt",
            "--v8-flags=--expose-gc",
            `--allow-read=${root}`,
            "--allow-env",
            "run.mjs",
          ],
          out,
        );
  return finish(r.output, r.code === 0, r.timedOut);
}

function finish(
  output: string,
  exitedOk: boolean,
  timedOut: boolean,
): { counts: Counts; log: string } {
  const { value, rest } = result<Counts>(output);
  const counts = value ?? { pass: 0, fail: 1, skip: 0, skipped: {} };
  if (!exitedOk && counts.fail === 0) counts.fail++;
  return { counts, log: timedOut ? `${rest}timed out after ${TIMEOUT_MS} ms\n` : rest };
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".html": "text/html",
  ".map": "application/json",
};

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file =
      path === "/"
        ? join(dir, "index.html")
        : path === "/bundle.js"
          ? join(dir, "bundle.js")
          : path.startsWith("/dist/")
            ? join(root, path)
            : "";
    // URL paths are normalised (no `..`), so a path can only name dist/ or the bundle.
    if (file === "" || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(readFileSync(file));
  });
  return new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(server)));
}

/** Chromium's flags for a closed network: no sandbox (root), no calls home, no QUIC. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--js-flags=--expose-gc",
];

async function runBrowser(
  files: readonly CoreFile[],
  dir: string,
): Promise<{ counts: Counts; log: string; version: string }> {
  const out = join(dir, "browser");
  await bundle({
    root,
    target: "browser",
    files: files.map((f) => f.file),
    distUrl: "/dist/",
    outfile: join(out, "bundle.js"),
  });
  writeFileSync(join(out, "index.html"), BROWSER_PAGE);
  const { chromium } = await import("playwright-core");
  const server = await serve(out);
  const profile = mkdtempSync(join(tmpdir(), "aiokit-chromium-"));
  const lines: string[] = [];
  try {
    // A fresh profile each run: Playwright passes it as --user-data-dir.
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    try {
      const version = context.browser()?.version() ?? "";
      const page = context.pages()[0] ?? (await context.newPage());
      page.on("console", (message) => lines.push(message.text()));
      page.on("pageerror", (error) => lines.push(`page error: ${error.stack ?? error.message}`));
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      const handle = await page.waitForFunction(
        () => (globalThis as { __aiokitResult?: unknown }).__aiokitResult,
        undefined,
        {
          timeout: TIMEOUT_MS,
          polling: 250,
        },
      );
      const value = (await handle.jsonValue()) as Counts | { error: string };
      if ("error" in value)
        return {
          counts: { pass: 0, fail: 1, skip: 0, skipped: {} },
          log: `${lines.join("\n")}\n${value.error}\n`,
          version,
        };
      return { counts: value, log: `${lines.join("\n")}\n`, version };
    } finally {
      await context.close();
    }
  } catch (error) {
    return {
      counts: { pass: 0, fail: 1, skip: 0, skipped: {} },
      log: `${lines.join("\n")}\n${String((error as Error).stack ?? error)}\n`,
      version: "",
    };
  } finally {
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function line(name: string, c: Counts, nodeOnly: number): string {
  const reasons = Object.entries(c.skipped)
    .map(([why, n]) => `${n} ${why}`)
    .join(", ");
  const notes = [reasons, nodeOnly > 0 ? `${nodeOnly} in Node-only files` : ""]
    .filter(Boolean)
    .join("; ");
  return `${name.padEnd(16)} ${c.pass} passed, ${c.fail} failed, ${c.skip + nodeOnly} skipped${notes ? ` (${notes})` : ""}`;
}

async function main(): Promise<number> {
  const files = coreFiles();
  const portable = files.filter((f) => f.nodeOnly.length === 0);
  const nodeOnly = files.filter((f) => f.nodeOnly.length > 0);
  console.log(`runtimes: ${files.length} core test files; ${nodeOnly.length} Node-only:`);
  for (const f of nodeOnly) console.log(`  ${f.file} (${f.nodeOnly.join(", ")})`);
  const dir = mkdtempSync(join(tmpdir(), "aiokit-runtimes-"));
  const total: Counts = { pass: 0, fail: 0, skip: 0, skipped: {} };
  const report = (name: string, c: Counts, log: string, skippedElsewhere: number): void => {
    if (c.fail > 0 && log.trim() !== "")
      process.stdout.write(log.endsWith("\n") ? log : `${log}\n`);
    console.log(line(name, c, skippedElsewhere));
    total.pass += c.pass;
    total.fail += c.fail;
    total.skip += c.skip + skippedElsewhere;
  };
  try {
    let perFile: PerFile = {};
    for (const [label, exe] of [
      ["22", "node22"],
      ["24", "node24"],
    ] as const) {
      if (!ONLY.has(exe)) continue;
      const started = Date.now();
      const path = binary(exe, "bin", "node");
      const version = (await run(path, ["--version"], root)).output.trim();
      const r = await runNode(files, path);
      perFile = r.perFile;
      report(`node ${version}`, r.counts, r.log, 0);
      console.log(`  (node ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    const skippedElsewhere = nodeOnly.reduce((n, f) => {
      const c = perFile[f.file];
      return n + (c === undefined ? 0 : c.pass + c.fail + c.skip);
    }, 0);
    for (const target of ["bun", "deno"] as const satisfies readonly Target[]) {
      if (!ONLY.has(target)) continue;
      const started = Date.now();
      const exe = binary(".bin", target);
      const version = (await run(exe, ["--version"], root)).output.split("\n")[0]?.trim() ?? "";
      const r = await runServer(target, portable, dir);
      report(target === "bun" ? `bun ${version}` : version, r.counts, r.log, skippedElsewhere);
      console.log(`  (${target}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (ONLY.has("chromium")) {
      const started = Date.now();
      const browser = await runBrowser(portable, dir);
      report(`chromium ${browser.version}`, browser.counts, browser.log, skippedElsewhere);
      console.log(`  (chromium: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } catch (error) {
    console.error(String((error as Error).stack ?? error));
    total.fail++;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`runtimes: ${total.pass} passed, ${total.fail} failed, ${total.skip} skipped`);
  return total.fail > 0 ? 1 : 0;
}

// `node --test .build/test` loads every file under a test/ folder: run only when asked.
if (process.argv[2] === "run") process.exitCode = await main();
