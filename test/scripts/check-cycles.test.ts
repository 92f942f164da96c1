/**
 * src/ has no import circle (issue 14: instrument ↔ task-group ↔ task was
 * one), and the check that says so does find a circle when there is one.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findCycles, findLayerViolations } from "../../scripts/check-cycles.js";

const src = fileURLToPath(new URL("../../../src/", import.meta.url));

describe("import circles", () => {
  const dir = mkdtempSync(join(tmpdir(), "aiokit-cycles-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("src/ has none", () => {
    assert.deepEqual(findCycles(src), []);
  });

  it("finds a circle of type-only imports across folders", () => {
    mkdirSync(join(dir, "a"));
    writeFileSync(join(dir, "a", "hooks.ts"), 'import type { Task } from "../task.js";\n');
    writeFileSync(
      join(dir, "task.ts"),
      'import { group } from "./group.js";\nexport class Task {}\n',
    );
    writeFileSync(
      join(dir, "group.ts"),
      'export { hooks } from "./a/hooks.js";\nexport const group = 1;\nimport("node:fs");\n',
    );
    writeFileSync(join(dir, "leaf.ts"), 'import { group } from "./group.js";\n');
    assert.deepEqual(findCycles(dir), [["a/hooks.ts", "task.ts", "group.ts", "a/hooks.ts"]]);
  });

  it("src/ folders import only what their READMEs allow (the CLI: public entries only)", () => {
    assert.deepEqual(findLayerViolations(src), []);
  });

  it("reports an import a folder may not make", () => {
    const layers = { "cli/": ["index.ts"], "_internal/": [] };
    mkdirSync(join(dir, "cli"));
    mkdirSync(join(dir, "_internal"));
    writeFileSync(join(dir, "_internal", "abort.ts"), "export const link = 1;\n");
    writeFileSync(
      join(dir, "cli", "fetch.ts"),
      'import { link } from "../_internal/abort.js";\nimport { sleep } from "../index.js";\n',
    );
    assert.deepEqual(findLayerViolations(dir, layers), ["cli/fetch.ts → _internal/abort.ts"]);
  });
});
