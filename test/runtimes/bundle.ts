/**
 * Bundles the core's test files (their TypeScript sources) into one ES module
 * for Bun, Deno or the browser. The tests' imports of `src/` become imports of
 * the built `dist/` (left outside the bundle, so every test uses the one copy
 * of aiokit a user would load), `node:test` becomes the stand-in runner, and
 * the Node modules a runtime lacks become stand-ins (see `shims/`).
 */
import { relative } from "node:path";
import { build, type Plugin } from "esbuild";

/** Where the bundle runs: what it may import natively, and how dist/ is reached. */
export type Target = "bun" | "deno" | "browser";

export interface BundleOptions {
  readonly root: string;
  readonly target: Target;
  /** Test files (paths relative to root, `.ts`), in the order to run them. */
  readonly files: readonly string[];
  /** How the bundle imports `dist/<path>`: a URL prefix ending in `/`. */
  readonly distUrl: string;
  readonly outfile: string;
}

const shims = (root: string, name: string): string => `${root}/test/runtimes/shims/${name}.ts`;

function aliases(root: string, target: Target): Record<string, string> {
  const common: Record<string, string> = {
    "node:test": shims(root, "test"),
    "node:v8": shims(root, "gc"),
    "node:vm": shims(root, "gc"),
  };
  if (target !== "browser") return common;
  return {
    ...common,
    "node:assert": shims(root, "assert"),
    "node:assert/strict": shims(root, "assert"),
    "node:events": shims(root, "events"),
  };
}

/** The names a stubbed Node module exports (node:stream's, as the tests import them). */
const STUB_NAMES = [
  "Readable",
  "Writable",
  "Duplex",
  "Transform",
  "PassThrough",
  "Stream",
  "pipeline",
  "finished",
];

function plugin(options: BundleOptions): Plugin {
  const { root, target, distUrl } = options;
  const map = aliases(root, target);
  const src = `${root}/src/`;
  return {
    name: "aiokit-runtimes",
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => {
        const alias = map[args.path];
        if (alias !== undefined) return { path: alias };
        if (target !== "browser") return { path: args.path, external: true };
        return { path: args.path, namespace: "node-only" };
      });
      b.onLoad({ filter: /.*/, namespace: "node-only" }, (args) => ({
        contents: [
          `import { stubModule } from ${JSON.stringify(shims(root, "node-only"))};`,
          `const stub = stubModule(${JSON.stringify(args.path)});`,
          `export const ${STUB_NAMES.map((n) => `${n} = stub`).join(", ")};`,
          "export default stub;",
        ].join("\n"),
        loader: "js",
        resolveDir: root,
      }));
      b.onResolve({ filter: /\/src\// }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const path = new URL(args.path, `file://${args.resolveDir}/`).pathname;
        if (!path.startsWith(src)) return undefined;
        const rel = relative(src, path).replace(/\.ts$/, ".js");
        return { path: `${distUrl}${rel}`, external: true };
      });
    },
  };
}

/** The entry module: registers each file with the stand-in runner, then exports it. */
function entry(options: BundleOptions): string {
  const lines = [`import * as runner from ${JSON.stringify(shims(options.root, "test"))};`];
  for (const file of options.files) {
    const name = JSON.stringify(file.replace(/^test\//, ""));
    lines.push(
      `await runner.loadFile(${name}, () => import(${JSON.stringify(`${options.root}/${file}`)}));`,
    );
  }
  lines.push("export const { runAll, reportUnhandled } = runner;");
  return lines.join("\n");
}

/** Writes the bundle to `options.outfile`. */
export async function bundle(options: BundleOptions): Promise<void> {
  await build({
    stdin: {
      contents: entry(options),
      resolveDir: options.root,
      loader: "js",
      sourcefile: "entry.js",
    },
    bundle: true,
    format: "esm",
    platform: options.target === "browser" ? "browser" : "neutral",
    mainFields: ["module", "main"],
    conditions: ["import"],
    target: "es2022",
    outfile: options.outfile,
    plugins: [plugin(options)],
    logLevel: "error",
    // Keep `await using` etc. as tsc compiles them for Node 20 (lowered).
    supported: {},
  });
}
