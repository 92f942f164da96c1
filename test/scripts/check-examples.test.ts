/**
 * The examples check must fail on a broken example: a check that passes on
 * everything guards nothing. Each kind of breakage is fed to it once, beside
 * examples that must pass, run and opt out as they say.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type CheckReport, checkExamples } from "../../scripts/check-examples.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Markdown made of fenced blocks; `lines[name]` is the first code line of each. */
function markdown(blocks: Record<string, { info?: string; code: string }>) {
  const text: string[] = ["# Fixture", ""];
  const lines: Record<string, number> = {};
  for (const [name, { info, code }] of Object.entries(blocks)) {
    text.push(info === undefined ? "```ts" : `\`\`\`ts ${info}`);
    lines[name] = text.length + 1;
    text.push(...code.split("\n"), "```", "");
  }
  return { text: text.join("\n"), lines };
}

const fixture = markdown({
  good: { code: 'import { sleep } from "aiokit";\nawait sleep(1);\nconsole.log("slept");' },
  typeError: { code: 'const n: number = "one";\nconsole.log(n);' },
  missingImport: { code: "await sleep(1);" },
  duplicate: { code: "const pages = 1;\nconst pages = 2;" },
  // The withVirtualClock example of issue 19 (defect 3), as it was: the catch comes too late.
  unhandled: {
    code: [
      'import { timeout, sleep, TimeoutError } from "aiokit";',
      'import { withVirtualClock } from "aiokit/testing";',
      "await withVirtualClock(async (clock) => {",
      "  const result = timeout(30_000, (signal) => sleep(60_000, { signal }));",
      "  await clock.advance(30_000);",
      "  await result.catch((error) => console.log(error instanceof TimeoutError));",
      "});",
    ].join("\n"),
  },
  neverSettles: { code: "await new Promise(() => {});" },
  tagWithoutReason: { info: "no-run", code: 'console.log("x");' },
  optedOut: { info: "no-run: would throw", code: 'throw new Error("never run");' },
  usesPrelude: { code: "console.log(url.length); // a ReferenceError if it ran" },
});
const tsdoc = [
  "/**",
  " * A documented function.",
  " *",
  " * @example",
  " * ```ts",
  ' * import { notAnExport } from "aiokit";',
  " * ```",
  " */",
  "export function documented(): void {}",
].join("\n");

describe("check-examples", () => {
  const dir = mkdtempSync(join(tmpdir(), "aiokit-examples-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "fixture.md"), fixture.text);
  writeFileSync(join(dir, "fixture.ts"), tsdoc);
  let report: CheckReport | undefined;
  const run = async (): Promise<CheckReport> => {
    report ??= await checkExamples({
      root,
      files: [join(dir, "fixture.md"), join(dir, "fixture.ts")],
      outDir: join(root, ".build", "doc-examples-test"),
    });
    return report;
  };
  const problemAt = async (name: keyof typeof fixture.lines, pattern: RegExp) => {
    const { problems } = await run();
    const line = fixture.lines[name];
    const found = problems.filter((p) => new RegExp(`fixture\\.md:${line}\\b`).test(p));
    assert.ok(
      found.some((p) => pattern.test(p)),
      `expected a problem at line ${line} matching ${pattern}, got:\n${problems.join("\n")}`,
    );
  };

  it("reports a type error where it is", () => problemAt("typeError", /:7: TS2322/));
  it("reports a missing import", () => problemAt("missingImport", /TS2304: .*'sleep'/));
  it("compiles each example as its own module, one block at a time", async () => {
    await problemAt("duplicate", /TS2451/);
    assert.ok(!(await run()).problems.some((p) => /TS2451/.test(p) && !p.includes("fixture.md")));
  });
  it("runs examples: an unhandled rejection fails (issue 19, the withVirtualClock example)", () =>
    problemAt("unhandled", /exited with code 1:[\s\S]*TimeoutError/));
  it("runs examples: a top-level await that never settles fails", () =>
    problemAt("neverSettles", /exited with code 13/));
  it("rejects an opt-out tag without a reason", () =>
    problemAt("tagWithoutReason", /unknown fence tag "no-run"/));
  it("checks the examples of TSDoc comments, at their line in the source", async () => {
    const { problems } = await run();
    assert.ok(
      problems.some((p) => /fixture\.ts:6:10: TS2305: .*notAnExport/.test(p)),
      problems.join("\n"),
    );
  });
  it("passes, runs, opts out and type-checks the others as they say", async () => {
    const { ran, optedOut, typeChecked, total, problems } = await run();
    const where = (s: { file: string; line: number }) => `${s.file.split("/").pop()}:${s.line}`;
    assert.deepEqual(ran.map(where), [`fixture.md:${fixture.lines.good}`]);
    assert.deepEqual(optedOut.map(where), [`fixture.md:${fixture.lines.optedOut}`]);
    assert.deepEqual(
      typeChecked.map((t) => [where(t.snippet), t.names]),
      [[`fixture.md:${fixture.lines.usesPrelude}`, ["url"]]],
    );
    for (const name of ["good", "optedOut", "usesPrelude"] as const) {
      const line = fixture.lines[name];
      assert.ok(!problems.some((p) => p.includes(`fixture.md:${line}`)), `${name} is fine`);
    }
    assert.equal(total, 9); // the tag without a reason is reported, not counted
  });
});
