import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BoundedSemaphore, type Permit, Semaphore } from "../../src/index.js";
import { flush, track } from "./helpers.js";

describe("Semaphore", () => {
  it("lets `value` holders in at once and queues the rest", async () => {
    const sem = new Semaphore(3);
    const permits = [await sem.acquire(), await sem.acquire(), await sem.acquire()];
    assert.equal(sem.value, 0);
    assert.equal(sem.locked, true);
    const fourth = track(sem.acquire());
    await flush();
    assert.equal(fourth.status, "pending");
    permits[1]?.release();
    await flush();
    assert.equal(fourth.status, "fulfilled");
    assert.equal(sem.value, 0, "the permit went to the waiter, not the counter");
    for (const p of [permits[0], permits[2], fourth.value]) p?.release();
    assert.equal(sem.value, 3);
    assert.equal(sem.locked, false);
  });

  it("defaults to one permit", () => {
    assert.equal(new Semaphore().value, 1);
    assert.equal(new BoundedSemaphore().value, 1);
  });

  it("Semaphore(0) makes every acquire wait for a release", async () => {
    const sem = new Semaphore(0);
    assert.equal(sem.locked, true);
    const waiter = track(sem.acquire());
    await flush();
    assert.equal(waiter.status, "pending");
    sem.release();
    await flush();
    assert.equal(waiter.status, "fulfilled");
  });

  it("release() without acquire raises the value (asyncio's Semaphore allows it)", () => {
    const sem = new Semaphore(1);
    sem.release();
    assert.equal(sem.value, 2);
  });

  it("never lets more than `value` run at once under run()", async () => {
    const sem = new Semaphore(4);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sem.run(async () => {
          inside++;
          most = Math.max(most, inside);
          for (let k = 0; k < i % 3; k++) await flush();
          inside--;
        }),
      ),
    );
    assert.equal(most, 4);
    assert.equal(sem.value, 4);
  });

  it("an aborted waiter does not swallow a release (asyncio's lost wake-up)", async () => {
    const sem = new Semaphore(0);
    const controller = new AbortController();
    const aborted = track(sem.acquire({ signal: controller.signal }));
    const live = track(sem.acquire());
    controller.abort();
    sem.release();
    await flush();
    assert.equal(aborted.status, "rejected");
    assert.equal(live.status, "fulfilled");
    assert.equal(sem.value, 0);
  });

  it("rejects a bad value with a TypeError naming it", () => {
    assert.throws(() => new Semaphore(-1), {
      name: "TypeError",
      message: "Expected `value` to be an integer from 0 and up, got -1 (number)",
    });
    assert.throws(() => new Semaphore(1.5), TypeError);
    assert.throws(() => new Semaphore(Number.NaN), TypeError);
    assert.throws(() => new Semaphore(Number.POSITIVE_INFINITY), TypeError);
    assert.throws(() => new Semaphore("2" as unknown as number), /"2" \(string\)/);
  });

  it("statistics() reports value and waiters", async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    void sem.acquire();
    assert.deepEqual(sem.statistics(), { value: 0, waiting: 1 });
  });
});

describe("BoundedSemaphore", () => {
  it("release() beyond the initial value throws a RangeError and changes nothing", async () => {
    const sem = new BoundedSemaphore(2);
    assert.throws(() => sem.release(), {
      name: "RangeError",
      message:
        "Cannot release the bounded semaphore: it was released more times than acquired (value 2, initial value 2)",
    });
    const permit = await sem.acquire();
    sem.release();
    assert.equal(sem.value, 2);
    assert.throws(() => sem.release(), RangeError);
    assert.equal(sem.value, 2);
    assert.throws(() => permit.release(), RangeError, "the permit's release is the one too many");
  });

  it("permits alone can never over-release it", async () => {
    const sem = new BoundedSemaphore(2);
    const permits: Permit[] = [await sem.acquire(), await sem.acquire()];
    for (const permit of permits) {
      permit.release();
      permit.release();
    }
    assert.equal(sem.value, 2);
  });

  it("hands releases to waiters like a Semaphore", async () => {
    const sem = new BoundedSemaphore(1);
    const first = await sem.acquire();
    const second = track(sem.acquire());
    first.release();
    await flush();
    assert.equal(second.status, "fulfilled");
    assert.equal(sem.value, 0);
    second.value?.release();
    assert.equal(sem.value, 1);
  });

  it("is a Semaphore", () => {
    assert.ok(new BoundedSemaphore(1) instanceof Semaphore);
  });
});
