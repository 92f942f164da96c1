/**
 * Type-level tests: they "run" when `npm run compile` typechecks them (each
 * `@ts-expect-error` fails the build if the line stops being an error).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Barrier,
  CapacityLimiter,
  Event,
  Lock,
  type Permit,
  PriorityQueue,
  Queue,
  Semaphore,
} from "../../src/index.js";

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

async function typeChecks(): Promise<void> {
  const lock = new Lock();
  const permit = await lock.acquire();
  expectType<Equal<typeof permit, Permit>>(true);
  expectType<Equal<Awaited<ReturnType<typeof lock.run<number>>>, number>>(true);
  const fromAsync = await new Semaphore(2).run(async () => "text");
  expectType<Equal<typeof fromAsync, string>>(true);
  const fromLimiter = await new CapacityLimiter(1).run(() => Promise.resolve([1, 2] as const));
  expectType<Equal<typeof fromLimiter, readonly [1, 2]>>(true);

  const queue = new Queue<{ id: number }>({ maxsize: 10 });
  const item = await queue.get();
  expectType<Equal<typeof item, { id: number }>>(true);
  for await (const each of queue) expectType<Equal<typeof each, { id: number }>>(true);
  // @ts-expect-error the item type is checked
  await queue.put("not an item");
  // @ts-expect-error maxsize is a number
  new Queue({ maxsize: "10" });
  // @ts-expect-error compare takes two items of the queue's type
  new PriorityQueue<{ at: number }>({ compare: (a: string, b: string) => a.length - b.length });

  // @ts-expect-error locked is read-only
  lock.locked = true;
  // @ts-expect-error isSet is read-only
  new Event().isSet = true;
  // @ts-expect-error size is read-only
  queue.size = 3;
  // @ts-expect-error borrowed is read-only
  new CapacityLimiter(1).borrowed = 0;
  new CapacityLimiter(1).totalTokens = 4; // settable
  const index: number = await new Barrier(1).wait();
  void index;
  // @ts-expect-error signal must be an AbortSignal
  await lock.acquire({ signal: "soon" });
}

describe("types", () => {
  it("typecheck (the assertions above are compile-time)", () => {
    assert.equal(typeof typeChecks, "function");
  });
});
