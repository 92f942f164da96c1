/** `aiokit doctor` and `aiokit ps` end to end: the built CLI on real child programs. */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));
const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const run = promisify(execFile);

describe("aiokit doctor", () => {
  it("runs the program with the blocking detector and sums the blocks up by location", async () => {
    const { stdout, stderr } = await run(process.execPath, [
      cli,
      "doctor",
      "--",
      process.execPath,
      fixture("cli-blocking-app.mjs"),
    ]);
    assert.match(stdout, /app done/);
    assert.match(stderr, /1 blocking event longer than 100 ms/);
    assert.match(stderr, /1 +\d+ +\d+ +busyWait \(.*cli-blocking-app\.mjs:5\)/);
  });

  it("counts a block the program exits right after (process.exit() in the same turn)", async () => {
    const { stderr } = await run(process.execPath, [
      cli,
      "doctor",
      "--",
      process.execPath,
      fixture("cli-blocking-app.mjs"),
      "exit",
    ]);
    assert.match(stderr, /1 blocking event longer than 100 ms/);
    assert.match(stderr, /1 +\d+ +\d+ +busyWait \(.*cli-blocking-app\.mjs:5\)/);
  });

  it("--fail-on-block turns a block into exit code 1; no command is a usage error", async () => {
    await assert.rejects(
      run(process.execPath, [
        cli,
        "doctor",
        "--fail-on-block",
        "--",
        process.execPath,
        fixture("cli-blocking-app.mjs"),
      ]),
      (e: { code?: number }) => e.code === 1,
    );
    await assert.rejects(
      run(process.execPath, [cli, "doctor"]),
      (e: { code?: number; stderr?: string }) => e.code === 2,
    );
  });
});

describe("aiokit ps", () => {
  it("prints the task tree of a program running with aiokit/node/register", async () => {
    const register = fileURLToPath(new URL("../../../dist/node/register.js", import.meta.url));
    const app = spawn(process.execPath, ["--import", register, fixture("cli-ps-app.mjs")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve) =>
        app.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()),
      );
      const { stdout } = await run(process.execPath, [cli, "ps", String(app.pid)]);
      assert.match(stdout, /scraper/);
      assert.match(stdout, /crawl example\.test/);
      assert.match(stdout, /write results/);
    } finally {
      app.stdin.end();
      await new Promise((resolve) => app.once("exit", resolve));
    }
  });

  it("fails clearly for a process that does not exist, and on bad usage", async () => {
    await assert.rejects(
      run(process.execPath, [cli, "ps", "999999"]),
      (e: { code?: number; stderr?: string }) => e.code === 1 && /999999/.test(String(e.stderr)),
    );
    await assert.rejects(
      run(process.execPath, [cli, "ps", "abc"]),
      (e: { code?: number }) => e.code === 2,
    );
  });
});
