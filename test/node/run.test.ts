import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { run } from "../../src/node/index.js";
import { runFixture, startFixture } from "./child-process.js";

const NO_LISTENERS_LEFT = /^listeners (\[.*\]) \1$/m;

describe("run", () => {
  it("cancels main on SIGINT, lets tasks clean up, and exits with 130", async () => {
    const child = startFixture("run-program.mjs", ["graceful"]);
    await child.line("stdout", /^ready$/);
    child.process.kill("SIGINT");
    const exit = await child.exit;
    assert.equal(exit.code, 130, exit.stderr);
    assert.match(exit.stdout, /^cleaned up$/m);
    assert.match(exit.stderr, /received SIGINT, cancelling \(press Ctrl\+C again/);
    assert.match(exit.stdout, NO_LISTENERS_LEFT);
  });

  it("exits with 143 after SIGTERM", async () => {
    const child = startFixture("run-program.mjs", ["graceful"]);
    await child.line("stdout", /^ready$/);
    child.process.kill("SIGTERM");
    const exit = await child.exit;
    assert.equal(exit.code, 143, exit.stderr);
    assert.match(exit.stdout, /^cleaned up$/m);
  });

  it("forces the exit on a second SIGINT, naming the tasks still running", async () => {
    const child = startFixture("run-program.mjs", ["stuck"]);
    await child.line("stdout", /^ready$/);
    child.process.kill("SIGINT");
    await child.line("stderr", /received SIGINT/);
    child.process.kill("SIGINT");
    const exit = await child.exit;
    assert.equal(exit.code, 130, exit.stderr);
    assert.match(exit.stderr, /received SIGINT again; exiting with these tasks still running/);
    assert.match(exit.stderr, /TaskGroup "main" cancelling/);
    assert.match(exit.stderr, /└─ Task "stuck-forever" #\d+ cancelling/);
    assert.doesNotMatch(exit.stdout, /listeners/);
  });

  it("forces the exit when main outlives shutdownTimeout", async () => {
    const child = startFixture("run-program.mjs", ["stuck", "100"]);
    await child.line("stdout", /^ready$/);
    child.process.kill("SIGTERM");
    const exit = await child.exit;
    assert.equal(exit.code, 143, exit.stderr);
    assert.match(exit.stderr, /main did not finish within 100 ms of SIGTERM/);
    assert.match(exit.stderr, /stuck-forever/);
  });

  it("reports an unhandled rejection, cancels main and exits with 1", async () => {
    const exit = await runFixture("run-program.mjs", ["unhandled"]);
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(
      exit.stderr,
      /unhandled rejection, cancelling main:\nError: lost rejection\n\s+at /,
    );
    assert.match(exit.stdout, /^cleaned up$/m);
    assert.match(exit.stdout, NO_LISTENERS_LEFT);
  });

  it("reports an uncaught exception, cancels main and exits with 1", async () => {
    const exit = await runFixture("run-program.mjs", ["uncaught"]);
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /uncaught exception, cancelling main:\nError: uncaught boom\n\s+at /);
    assert.match(exit.stdout, /^cleaned up$/m);
  });

  it("reports main's own error and exits with 1", async () => {
    const exit = await runFixture("run-program.mjs", ["throws"]);
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, /main failed:\nError: bad main/);
    assert.match(exit.stdout, NO_LISTENERS_LEFT);
  });

  it("uses a number main returns as the exit code", async () => {
    const exit = await runFixture("run-program.mjs", ["returns"]);
    assert.equal(exit.code, 3);
    assert.equal(exit.stderr, "");
  });

  describe("sets process.exitCode itself: a bare `await run(main)` exits with the code", () => {
    for (const [mode, signal, code] of [
      ["graceful", "SIGINT", 130],
      ["graceful", "SIGTERM", 143],
    ] as const) {
      it(`${code} after ${signal}`, async () => {
        const child = startFixture("run-program.mjs", [mode, "--bare"]);
        await child.line("stdout", /^ready$/);
        child.process.kill(signal);
        const exit = await child.exit;
        assert.equal(exit.code, code, exit.stderr);
      });
    }
    for (const [mode, code] of [
      ["uncaught", 1],
      ["unhandled", 1],
      ["throws", 1],
      ["returns", 3],
    ] as const) {
      it(`${code} when main ${mode}`, async () => {
        const exit = await runFixture("run-program.mjs", [mode, "--bare"]);
        assert.equal(exit.code, code, exit.stderr);
      });
    }
    it("keeps an exit code the caller set before", async () => {
      const exit = await runFixture("run-program.mjs", ["throws", "--bare", "--preset", "7"]);
      assert.equal(exit.code, 7, exit.stderr);
      assert.match(exit.stderr, /main failed/);
    });
  });

  it("resolves with 0 and removes its listeners (in process)", async () => {
    const events = ["SIGINT", "SIGTERM", "uncaughtException", "unhandledRejection"] as const;
    const before = events.map((e) => process.listenerCount(e));
    let seen: AbortSignal | undefined;
    const code = await run(async (signal) => {
      seen = signal;
      assert.deepEqual(
        events.map((e) => process.listenerCount(e)),
        before.map((n) => n + 1),
      );
    });
    assert.equal(code, 0);
    assert.equal(seen?.aborted, false);
    assert.deepEqual(
      events.map((e) => process.listenerCount(e)),
      before,
    );
  });

  it("rejects bad arguments and a second concurrent run", async () => {
    await assert.rejects(
      run("main" as never),
      /Expected `main` to be a function, got "main" \(string\)/,
    );
    await assert.rejects(
      run(async () => {}, { shutdownTimeout: -1 }),
      /Expected `shutdownTimeout` to be a number from 0 and up, got -1 \(number\)/,
    );
    let release!: () => void;
    const first = run(() => new Promise<void>((resolve) => (release = resolve)));
    await assert.rejects(
      run(async () => {}),
      /another run\(\) is still active/,
    );
    release();
    assert.equal(await first, 0);
  });
});
