/**
 * Checks of the package as built: what each entry point exports (a snapshot of
 * the contract), and that the core imports nothing from `node:*`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dist = join(root, "dist");

/** Every module reachable from `entry` through relative imports. */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(
      /(?:import|export)[^'"]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g,
    )) {
      const spec = match[1] ?? match[2];
      if (spec !== undefined) visit(join(file, "..", spec));
    }
  };
  visit(entry);
  return [...seen];
}

describe("the built package", () => {
  it("has a dist/ to check (npm test builds it first)", () => {
    assert.ok(statSync(join(dist, "index.js")).isFile());
  });

  for (const entry of ["index.js", "testing/index.js"]) {
    it(`${entry} and everything it imports use no node: module and no Node global`, () => {
      const files = reachable(join(dist, entry));
      assert.ok(files.length > 3);
      for (const file of files) {
        // Comments may mention Node; code may not.
        const code = readFileSync(file, "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/^\s*\/\/.*$/gm, "");
        assert.ok(
          !/from\s*["']node:|import\(\s*["']node:|require\(/.test(code),
          `${file} imports node:`,
        );
        assert.ok(
          !/(?<![.\w])(process|Buffer|setImmediate|__dirname)\b/.test(code),
          `${file} uses a Node global`,
        );
      }
    });
  }

  it("dist/ ships declarations for every module", () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : [path];
      });
    for (const file of walk(dist).filter((f) => f.endsWith(".js"))) {
      assert.ok(statSync(file.replace(/\.js$/, ".d.ts")).isFile(), `${file} has no .d.ts`);
    }
  });

  it("package.json maps the three entry points to dist", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      exports: Record<string, { types?: string; default?: string }>;
      dependencies?: Record<string, string>;
    };
    assert.equal(pkg.exports["."]?.default, "./dist/index.js");
    assert.equal(pkg.exports["./node"]?.default, "./dist/node/index.js");
    assert.equal(pkg.exports["./testing"]?.default, "./dist/testing/index.js");
  });
});

describe("the published types", () => {
  it("compile on their own under strict, nodenext, without skipLibCheck", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const files = ["index.d.ts", "testing/index.d.ts", "node/index.d.ts"].map((f) => join(dist, f));
    const args = [
      tsc,
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
    ];
    args.push(
      "--target",
      "es2022",
      "--lib",
      "es2023,esnext.disposable,dom",
      "--types",
      "node",
      ...files,
    );
    await promisify(execFile)(process.execPath, args, { cwd: root }).catch(
      (error: { stdout?: string }) => {
        assert.fail(`the .d.ts files do not compile:\n${error.stdout ?? String(error)}`);
      },
    );
  });
});
