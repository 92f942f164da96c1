import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { CancelledError, taskGroup } from "../../src/index.js";
import {
  defaultWorkerPool,
  jobSignal,
  type Transfer,
  toWorker,
  type WorkerFunction,
  WorkerPool,
} from "../../src/node/index.js";
import { fixtures } from "./child-process.js";

const jobs = pathToFileURL(`${fixtures}worker-jobs.mjs`);

type Sha256 = (data: Uint8Array | string, times?: number) => string;
type Add = (a: number, b: number) => number;
type WithShared = (shared: SharedArrayBuffer) => unknown;

/** Shared flags: [0] the job started, [1] release a held job, [2] a job ran. */
function flags(): { shared: SharedArrayBuffer; view: Int32Array; started: () => Promise<void> } {
  const shared = new SharedArrayBuffer(12);
  const view = new Int32Array(shared);
  return {
    shared,
    view,
    async started() {
      const waiting = (
        Atomics as unknown as {
          waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown };
        }
      ).waitAsync(view, 0, 0);
      if (waiting.async) await waiting.value;
    },
  };
}

function release(view: Int32Array): void {
  Atomics.store(view, 1, 2);
  Atomics.notify(view, 1);
}

describe("WorkerPool", () => {
  const pool = new WorkerPool({ maxThreads: 2, cancelGrace: 100 });
  after(() => pool.close());

  it("runs an export with its arguments on a worker thread", async () => {
    const add = pool.fn<Add>(jobs, "add");
    assert.equal(await add(2, 3), 5);
    const where = pool.fn<() => number>(jobs, "whereAmI");
    assert.notEqual(await where(), 0);
    assert.equal(
      await pool.run<Sha256>(jobs, "sha256", ["abc"]),
      (await import("node:crypto")).createHash("sha256").update("abc").digest("hex"),
    );
  });

  it("runs many jobs concurrently, all of them", async () => {
    const sha256 = pool.fn<Sha256>(jobs, "sha256");
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sha256(`n${i}`, 10)));
    assert.equal(new Set(results).size, 50);
  });

  it("removes a queued job when its signal aborts, and never runs it", async () => {
    const solo = new WorkerPool({ maxThreads: 1 });
    try {
      const f = flags();
      const held = solo.run<WithShared>(jobs, "hold", [f.shared]);
      await f.started();
      const controller = new AbortController();
      const queued = solo.run<WithShared>(jobs, "mark", [f.shared], { signal: controller.signal });
      const during = solo.statistics();
      assert.equal(during.waiting, 1);
      assert.equal(during.active, 1, "the held job");
      // The deprecated spellings (they go in 0.3.0) read the same counters, hidden from JSON.
      assert.equal(during.queued, during.waiting);
      assert.equal(during.pending, during.waiting + during.active);
      assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(during))).sort(), [
        "active",
        "completed",
        "terminated",
        "threads",
        "utilization",
        "waiting",
      ]);
      assert.match(String(solo), /threads=1 waiting=1 active=1>$/);
      const reason = new CancelledError("not needed");
      controller.abort(reason);
      await assert.rejects(queued, (error) => error === reason);
      assert.equal(solo.statistics().waiting, 0);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
      release(f.view);
      assert.equal(await held, "released");
      assert.equal(Atomics.load(f.view, 2), 0, "the cancelled job never ran");
      assert.equal(solo.statistics().terminated, 0);
    } finally {
      await solo.close();
    }
  });

  it("aborts the job's own signal when a running job is cancelled (async job)", async () => {
    const f = flags();
    const controller = new AbortController();
    const job = pool.run<WithShared>(jobs, "awaitAbort", [f.shared], { signal: controller.signal });
    await f.started();
    controller.abort(new CancelledError("stop"));
    await assert.rejects(job, { name: "AbortError", message: "stop" });
    assert.equal(pool.statistics().terminated, 0);
  });

  it("lets a synchronous loop see the cancellation through signal.aborted", async () => {
    const solo = new WorkerPool({ maxThreads: 1, cancelGrace: Number.POSITIVE_INFINITY });
    try {
      const before = await solo.run<() => number>(jobs, "whereAmI", []);
      const f = flags();
      const controller = new AbortController();
      const job = solo.run<WithShared>(jobs, "spinUntilCancelled", [f.shared], {
        signal: controller.signal,
      });
      await f.started();
      controller.abort();
      await assert.rejects(job, { name: "AbortError" });
      // The worker stopped by itself: the same thread serves the next job.
      assert.equal(await solo.run<() => number>(jobs, "whereAmI", []), before);
      assert.equal(solo.statistics().terminated, 0);
    } finally {
      await solo.close();
    }
  });

  it("terminates a job that ignores its signal after cancelGrace, and replaces the worker", async () => {
    const solo = new WorkerPool({ maxThreads: 1, cancelGrace: 50 });
    try {
      const before = await solo.run<() => number>(jobs, "whereAmI", []);
      const f = flags();
      const controller = new AbortController();
      const job = solo.run<WithShared>(jobs, "spinForever", [f.shared], {
        signal: controller.signal,
      });
      await f.started();
      const reason = new Error("enough");
      controller.abort(reason);
      await assert.rejects(job, (error) => error === reason);
      assert.equal(solo.statistics().terminated, 1);
      const afterwards = await solo.run<() => number>(jobs, "whereAmI", []);
      assert.notEqual(afterwards, before);
    } finally {
      await solo.close();
    }
  });

  it("still runs queued jobs after terminating every worker (regression: piscina with minThreads 0 stranded them)", {
    timeout: 20_000,
  }, async () => {
    const small = new WorkerPool({ maxThreads: 2, cancelGrace: 0 });
    try {
      const [a, b, c] = [flags(), flags(), flags()];
      const controllers = [new AbortController(), new AbortController()];
      const stubborn = [a, b].map((f, i) =>
        small.run<WithShared>(jobs, "spinForever", [f.shared], { signal: controllers[i]?.signal }),
      );
      const queued = small.run<WithShared>(jobs, "quick", [c.shared]);
      await a.started();
      await b.started();
      assert.equal(small.statistics().waiting, 1);
      for (const controller of controllers) controller.abort();
      await Promise.allSettled(stubborn);
      assert.equal(small.statistics().terminated, 2);
      assert.equal(await queued, 1);
    } finally {
      await small.close();
    }
  });

  it("starts jobs in the order they were submitted, cancellable or not", async () => {
    const solo = new WorkerPool({ maxThreads: 1 });
    try {
      const f = flags();
      const held = solo.run<WithShared>(jobs, "hold", [f.shared]);
      await f.started();
      const order = new SharedArrayBuffer(4 * 11);
      const runs = Array.from({ length: 10 }, (_, i) =>
        solo.run<(shared: SharedArrayBuffer, i: number) => void>(
          jobs,
          "record",
          [order, i],
          i % 2 === 0 ? { signal: new AbortController().signal } : {},
        ),
      );
      release(f.view);
      await held;
      await Promise.all(runs);
      assert.deepEqual([...new Int32Array(order).slice(1)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await solo.close();
    }
  });

  it("rejects at once, without running, when the signal is already aborted", async () => {
    const reason = new Error("early");
    await assert.rejects(
      pool.run<Add>(jobs, "add", [1, 2], { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });

  it("rejects with the job's error: same class, message, fields, cause and worker stack", async () => {
    const error = await pool.run(jobs, "throwRangeError", []).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "bad range");
    assert.equal((error as { code?: string }).code, "E_RANGE");
    assert.match(error.stack ?? "", /at throwRangeError \(.*worker-jobs\.mjs:\d+:\d+\)/);
    assert.equal((error.cause as Error).message, "root cause");
    const custom = await pool.run(jobs, "throwCustom", []).catch((e: unknown) => e);
    assert.equal((custom as Error).name, "QuotaError");
    assert.equal((custom as { limit?: number }).limit, 3);
  });

  it("rejects the job of a crashing worker and keeps serving", async () => {
    await assert.rejects(pool.run(jobs, "crashLater", []), { message: "crashed outside the job" });
    await assert.rejects(pool.run(jobs, "exitWorker", []), /exit/i);
    assert.equal(await pool.run<Add>(jobs, "add", [20, 22]), 42);
  });

  it("moves transferables instead of copying them, both ways", async () => {
    const buffer = new ArrayBuffer(1024);
    const byteLength = pool.fn<(b: ArrayBuffer) => number>(jobs, "byteLength");
    assert.equal(await byteLength.with({ transfer: [buffer] })(buffer), 1024);
    assert.equal(buffer.byteLength, 0, "moved: detached here");
    const kept = new ArrayBuffer(8);
    assert.equal(await byteLength(kept), 8);
    assert.equal(kept.byteLength, 8, "copied");
    // The worker returns transfer(bytes, [bytes.buffer]); the caller's type is unwrapped.
    const doubled = pool.fn<(b: Uint8Array) => Transfer<Uint8Array>>(jobs, "doubled");
    const result: Uint8Array = await doubled(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...result], [2, 4, 6]);
  });

  it("loads TypeScript worker modules without setup", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiokit-ts-worker-"));
    try {
      const file = join(dir, "math.ts");
      writeFileSync(
        file,
        "interface Pair { a: number; b: number }\nexport function sum(pair: Pair): number {\n  return pair.a + pair.b;\n}\n",
      );
      const sum = pool.fn<(pair: { a: number; b: number }) => number>(pathToFileURL(file), "sum");
      assert.equal(await sum({ a: 40, b: 2 }), 42);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a missing export, bad arguments and jobs after close", async () => {
    await assert.rejects(pool.run(jobs, "nope", []), {
      name: "TypeError",
      message: /Cannot run "nope" from file:.*worker-jobs\.mjs: it has no such export/,
    });
    await assert.rejects(pool.run(jobs, "notAFunction", []), /it is a number/);
    await assert.rejects(
      pool.run("relative.js", "x", []),
      /Expected the module to be a URL or an absolute path/,
    );
    await assert.rejects(
      pool.run(jobs, "", []),
      /Expected the export name to be a non-empty string/,
    );
    await assert.rejects(
      pool.run(jobs, "add", 3 as never),
      /Expected the arguments to be an array, got 3 \(number\)/,
    );
    assert.throws(
      () => new WorkerPool({ maxThreads: 0 }),
      /Expected `maxThreads` to be an integer from 1 and up, got 0/,
    );
    assert.throws(() => new WorkerPool({ maxThreads: 1, minThreads: 2 }), RangeError);
    const closing = new WorkerPool({ maxThreads: 1 });
    const first = closing.close();
    assert.equal(closing.close(), first);
    await first;
    await assert.rejects(
      closing.run<Add>(jobs, "add", [1, 2]),
      /Cannot run "add": the worker pool is closed/,
    );
  });

  it("close() waits for the jobs already submitted", async () => {
    const closing = new WorkerPool({ maxThreads: 1 });
    const results = [1, 2, 3].map((n) => closing.run<Add>(jobs, "add", [n, n]));
    await closing.close();
    assert.deepEqual(await Promise.all(results), [2, 4, 6]);
    assert.equal(closing.statistics().threads, 0);
  });

  it("works inside a task group: a failing sibling cancels the running jobs", async () => {
    const f = flags();
    await assert.rejects(
      taskGroup(async (tg) => {
        tg.spawn((signal) => pool.run<WithShared>(jobs, "awaitAbort", [f.shared], { signal }));
        await f.started();
        tg.spawn(() => {
          throw new Error("sibling failed");
        });
      }),
      { name: "TaskGroupError" },
    );
  });
});

describe("WorkerPool (property)", () => {
  it("settles every job as its signal says, whatever the timing of the abort", {
    timeout: 120_000,
  }, async () => {
    const pool = new WorkerPool({ maxThreads: 2, cancelGrace: 20 });
    const exportOf = {
      quick: "quick",
      cooperative: "awaitAbort",
      checking: "spinUntilCancelled",
      stubborn: "spinForever",
    } as const;
    const plan = fc.oneof(
      fc.record({
        kind: fc.constant("quick" as const),
        abort: fc.constantFrom("never", "before", "at once", "once started"),
      }),
      fc.record({
        kind: fc.constantFrom("cooperative" as const, "checking" as const, "stubborn" as const),
        abort: fc.constantFrom("before", "at once", "once started"),
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(plan, { minLength: 1, maxLength: 6 }), async (plans) => {
          const runs = plans.map((p) => {
            const controller = new AbortController();
            const reason = new Error("aborted by the property");
            const f = flags();
            if (p.abort === "before") controller.abort(reason);
            const outcome = pool
              .run<WithShared>(jobs, exportOf[p.kind], [f.shared], { signal: controller.signal })
              .then(
                (value) => ({ value }),
                (error: unknown) => ({ error }),
              );
            if (p.abort === "at once") controller.abort(reason);
            return { ...p, controller, reason, f, outcome };
          });
          // Each "once started" job is aborted as soon as it starts, independently:
          // piscina may start a cancellable job before an earlier one, so waiting
          // for them in submission order could wait for ever on a full pool.
          for (const r of runs) {
            if (r.abort === "once started")
              void r.f.started().then(() => r.controller.abort(r.reason));
          }
          for (const r of runs) {
            const outcome = await r.outcome;
            if ("error" in outcome) assert.equal(outcome.error, r.reason);
            else {
              assert.equal(r.kind, "quick");
              assert.equal(outcome.value, 1);
              assert.notEqual(r.abort, "before");
            }
            if (r.abort === "never") assert.deepEqual(outcome, { value: 1 });
            assert.equal(getEventListeners(r.controller.signal, "abort").length, 0);
          }
          assert.equal(pool.statistics().waiting + pool.statistics().active, 0);
        }),
        { numRuns: 25 },
      );
      // The pool still serves after all that.
      assert.equal(await pool.run<Add>(jobs, "add", [1, 1]), 2);
    } finally {
      await pool.close();
    }
  });
});

describe("toWorker", () => {
  after(() => defaultWorkerPool().close());

  it("returns a typed function on the default pool, with per-call options in .with()", async () => {
    const sha256: WorkerFunction<Sha256> = toWorker<Sha256>(jobs, "sha256");
    assert.equal(sha256.exportName, "sha256");
    assert.equal(sha256.moduleUrl, jobs.href);
    const digest: string = await sha256("x", 2);
    assert.equal(digest.length, 64);
    const controller = new AbortController();
    assert.equal(await sha256.with({ signal: controller.signal })("x", 2), digest);
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    // @ts-expect-error: the arguments are checked against the export's type.
    void sha256(42).catch(() => {});
    // @ts-expect-error: options never pass as an argument.
    void sha256("x", { signal: controller.signal }).catch(() => {});
  });

  it("runs on a given pool", async () => {
    await using pool = new WorkerPool({ maxThreads: 1 });
    const add = toWorker<Add>(jobs, "add", { pool });
    assert.equal(await add(1, 1), 2);
    assert.equal(pool.statistics().completed, 1);
  });

  it("validates eagerly", () => {
    assert.throws(() => toWorker("nope.js", "x"), TypeError);
    assert.throws(() => toWorker(jobs, ""), TypeError);
  });
});

describe("jobSignal", () => {
  it("throws outside a worker job", () => {
    assert.throws(jobSignal, /jobSignal\(\) was called outside a worker pool job/);
  });
});
