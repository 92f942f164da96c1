import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Failure } from "../../src/_internal/failure.js";
import { DONE, DONE_PROMISE } from "../../src/_internal/iterators.js";

describe("Failure", () => {
  it("ends as done without an error, and delivers a recorded error once", async () => {
    const failure = new Failure();
    assert.equal(failure.failed, false);
    assert.equal(failure.end(), DONE_PROMISE);
    failure.fail(new Error("boom"));
    assert.equal(failure.failed, true);
    await assert.rejects(failure.end(), /boom/);
    assert.equal(failure.failed, false);
    assert.equal(await failure.end(), DONE);
  });

  it("forget() drops the error; an aborted signal's reason replaces it", async () => {
    const failure = new Failure();
    failure.fail(new Error("dropped"));
    failure.forget();
    assert.equal(failure.end(), DONE_PROMISE);
    failure.fail(new Error("late"));
    await assert.rejects(failure.end(new AbortController().signal), /late/);
    failure.fail(new Error("late"));
    await assert.rejects(failure.end(AbortSignal.abort(new Error("cancelled"))), /cancelled/);
    assert.equal(failure.failed, false);
  });
});
