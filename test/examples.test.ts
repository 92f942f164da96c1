/** Every program in examples/ runs, and exits 0, so the examples cannot rot. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const dir = fileURLToPath(new URL("../examples/", import.meta.url));

describe("examples", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    it(`${file} runs`, async () => {
      const { stdout } = await run(process.execPath, [dir + file], { timeout: 60_000 });
      assert.ok(stdout.length > 0, "an example should show what it did");
    });
  }
});
