/** The CLI's command-line parsing: every command turns a bad flag into a UsageError naming it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { demoCommand } from "../../src/cli/demo/command.js";
import { doctorCommand } from "../../src/cli/doctor.js";
import { parseFetchArgs } from "../../src/cli/fetch/options.js";
import { psCommand } from "../../src/cli/ps.js";
import { cancelCommand, runsCommand } from "../../src/cli/queue/runs-command.js";
import { parseWorkerArgs } from "../../src/cli/queue/worker-command.js";
import { parseCommandLine, UsageError } from "../../src/cli/usage.js";

function usageErrorOf(command: string, pattern: RegExp) {
  return (error: unknown): boolean =>
    error instanceof UsageError && error.command === command && pattern.test(error.message);
}

describe("parseCommandLine", () => {
  it("returns parseArgs' values and positionals", () => {
    const { values, positionals } = parseCommandLine("x", {
      args: ["-c", "3", "a", "--json"],
      allowPositionals: true,
      options: { concurrency: { type: "string", short: "c" }, json: { type: "boolean" } },
    });
    assert.deepEqual({ ...values }, { concurrency: "3", json: true });
    assert.deepEqual(positionals, ["a"]);
  });

  it("turns an unknown option, a missing value and a stray positional into a UsageError of the command", () => {
    const options = { timeout: { type: "string" } } as const;
    assert.throws(
      () => parseCommandLine("x", { args: ["--nope"], options }),
      usageErrorOf("x", /--nope/),
    );
    assert.throws(
      () => parseCommandLine("x", { args: ["--timeout"], options }),
      usageErrorOf("x", /--timeout/),
    );
    assert.throws(
      () => parseCommandLine("x", { args: ["stray"], options }),
      usageErrorOf("x", /stray/),
    );
  });

  it("is what every command parses with: an unknown flag is a UsageError naming the command", async () => {
    assert.throws(() => parseFetchArgs(["--nope"]), usageErrorOf("fetch", /--nope/));
    assert.throws(() => parseWorkerArgs(["--nope"]), usageErrorOf("worker", /--nope/));
    await assert.rejects(psCommand(["--nope"]), usageErrorOf("ps", /--nope/));
    await assert.rejects(runsCommand(["--nope"]), usageErrorOf("runs", /--nope/));
    await assert.rejects(cancelCommand(["--json"]), usageErrorOf("cancel", /--json/));
    await assert.rejects(doctorCommand(["--nope", "--", "node"]), usageErrorOf("doctor", /--nope/));
    await assert.rejects(demoCommand(["--nope"]), usageErrorOf("demo", /--nope/));
  });
});
