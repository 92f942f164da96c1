/**
 * `node .build/scripts/check-cycles.js`: fails when a module under src/
 * imports itself back through others (type-only imports count too: a circle
 * of types is still a circle a reader must hold in their head), or when a
 * folder imports what its README says it may not ({@link LAYERS}). Relative
 * imports only; packages and `node:` modules are leaves.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Every `.ts` file below `dir`, as absolute paths. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The relative imports of one file, as absolute `.ts` paths. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((each) => each.fileName)
    .filter((spec) => spec.startsWith("./") || spec.startsWith("../"))
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
}

/**
 * What each part of src/ may import (besides itself), as the folders'
 * READMEs say: paths relative to src/, a trailing slash for a whole folder.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  "abort-listeners.ts": [],
  "clock.ts": [],
  "errors.ts": [],
  "deprecated.ts": ["clock.ts"],
  "_internal/": ["abort-listeners.ts", "errors.ts"],
  "sync/": ["_internal/", "errors.ts"],
  "task/": ["_internal/", "clock.ts", "errors.ts"],
  "limit/": ["task/", "_internal/", "clock.ts", "errors.ts"],
  "stream/": ["limit/", "task/", "_internal/", "clock.ts", "errors.ts"],
  "resource/": ["task/", "_internal/", "clock.ts", "errors.ts"],
  "testing/": ["_internal/", "clock.ts"],
  "node/": ["task/", "_internal/", "clock.ts", "errors.ts"],
  "bullmq/": ["index.ts", "_internal/"],
  // The CLI is aiokit's first user: public entries only.
  "cli/": ["index.ts", "node/index.ts", "testing/index.ts", "bullmq/index.ts"],
};

/** The part of src/ a file belongs to: its top folder (`task/`), or the file itself. */
function partOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash + 1);
}

/**
 * The imports below `dir` that {@link LAYERS} forbids, as `from → to`
 * (relative to `dir`). A part not in the table (index.ts) may import anything.
 */
export function findLayerViolations(
  dir: string,
  layers: Readonly<Record<string, readonly string[]>> = LAYERS,
): string[] {
  const out: string[] = [];
  for (const file of tsFiles(dir).sort()) {
    const from = relative(dir, file);
    const allowed = layers[partOf(from)];
    if (allowed === undefined) continue;
    for (const target of importsOf(file)) {
      const to = relative(dir, target);
      if (to.startsWith("..") || partOf(to) === partOf(from)) continue;
      const ok = allowed.some((rule) => (rule.endsWith("/") ? to.startsWith(rule) : to === rule));
      if (!ok) out.push(`${from} → ${to}`);
    }
  }
  return out;
}

/**
 * The import circles among the `.ts` files below `dir`, each as the list of
 * its files (relative to `dir`), the first repeated at the end. Empty when
 * there are none.
 */
export function findCycles(dir: string): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(dir)) graph.set(file, importsOf(file));
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === "open") {
        const circle = stack.slice(stack.indexOf(next)).concat(next);
        cycles.push(circle.map((f) => relative(dir, f)));
      } else if (seen === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = fileURLToPath(new URL("../../src/", import.meta.url));
  const cycles = findCycles(src);
  for (const cycle of cycles) console.error(`import circle: ${cycle.join(" → ")}`);
  const violations = findLayerViolations(src);
  for (const violation of violations)
    console.error(`import against the folder's README: ${violation}`);
  if (cycles.length + violations.length > 0) process.exit(1);
  console.log("no import circle in src/, every folder imports only what its README allows");
}
