/**
 * `node .build/scripts/check-cycles.js`: fails when a module under src/
 * imports itself back through others (type-only imports count too: a circle
 * of types is still a circle a reader must hold in their head). Relative
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
  if (cycles.length > 0) process.exit(1);
  console.log("no import circle in src/");
}
