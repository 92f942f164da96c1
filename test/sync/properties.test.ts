/**
 * Property tests (fast-check) of the invariants of issue 3, on random
 * schedules under the virtual clock:
 * - items out = items in: none lost, none duplicated, none from an aborted put;
 * - a semaphore's holders never exceed its value, and permits are conserved;
 * - FIFO among live waiters.
 *
 * Two kinds of schedule: command lists run synchronously with explicit flushes
 * (so an abort can land in the same tick as a grant), and timed scenarios where
 * tasks arrive, give up and hold on virtual timers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  BoundedSemaphore,
  CancelledError,
  CapacityLimiter,
  Condition,
  getClock,
  LifoQueue,
  Lock,
  type LockAcquireOptions,
  type Permit,
  PriorityQueue,
  Queue,
  Semaphore,
  sleep,
} from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";
import { flush } from "./helpers.js";

const RUNS = 200;

// --- semaphores -------------------------------------------------------------

interface PermitSource {
  acquire(options?: LockAcquireOptions): Promise<Permit>;
}

interface SemaphoreKind {
  readonly name: string;
  make(value: number): PermitSource;
  /** Permits free now (tokens, for the limiter). */
  free(source: PermitSource): number;
  waiting(source: PermitSource): number;
  /** The limit now. */
  limit(source: PermitSource, initial: number): number;
  setLimit?(source: PermitSource, value: number): void;
}

const semaphoreKinds: SemaphoreKind[] = [
  {
    name: "Semaphore",
    make: (value) => new Semaphore(value),
    free: (s) => (s as Semaphore).value,
    waiting: (s) => (s as Semaphore).statistics().waiting,
    limit: (_s, initial) => initial,
  },
  {
    name: "BoundedSemaphore",
    make: (value) => new BoundedSemaphore(value),
    free: (s) => (s as BoundedSemaphore).value,
    waiting: (s) => (s as BoundedSemaphore).statistics().waiting,
    limit: (_s, initial) => initial,
  },
  {
    name: "Lock",
    make: () => new Lock(),
    free: (s) => ((s as Lock).locked ? 0 : 1),
    waiting: (s) => (s as Lock).statistics().waiting,
    limit: () => 1,
  },
  {
    name: "CapacityLimiter",
    make: (value) => new CapacityLimiter(value),
    free: (s) => (s as CapacityLimiter).available,
    waiting: (s) => (s as CapacityLimiter).statistics().waiting,
    limit: (s) => (s as CapacityLimiter).totalTokens,
    setLimit: (s, value) => {
      (s as CapacityLimiter).totalTokens = value;
    },
  },
];

type SemCommand =
  | { readonly op: "acquire" }
  | { readonly op: "abort"; readonly pick: number }
  | { readonly op: "release"; readonly pick: number; readonly twice: boolean }
  | { readonly op: "limit"; readonly value: number }
  | { readonly op: "flush" };

const semCommand: fc.Arbitrary<SemCommand> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ op: "acquire" } as const) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("abort" as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      pick: fc.nat(),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("limit" as const),
      value: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: "flush" } as const) },
);

interface Acquirer {
  readonly index: number;
  readonly controller: AbortController;
  settled: boolean;
}

async function checkSemaphoreSchedule(
  kind: SemaphoreKind,
  initial: number,
  commands: readonly SemCommand[],
): Promise<void> {
  const source = kind.make(initial);
  const held: Permit[] = [];
  const acquirers: Acquirer[] = [];
  const grants: number[] = [];
  let holders = 0;
  let calls = 0;
  let failure: string | undefined;
  let limitChanged = false;

  // After a flush every grant has been seen: the books must balance.
  const checkBalanced = (): void => {
    const limit = kind.limit(source, initial);
    if (!limitChanged) {
      assert.equal(kind.free(source) + holders, limit, "permits are conserved");
    } else {
      assert.equal(kind.free(source), Math.max(0, limit - holders), "tokens are conserved");
    }
    if (kind.waiting(source) > 0)
      assert.equal(kind.free(source), 0, "nobody waits while a permit is free");
  };

  for (const command of commands) {
    switch (command.op) {
      case "acquire": {
        const acquirer: Acquirer = {
          index: calls++,
          controller: new AbortController(),
          settled: false,
        };
        acquirers.push(acquirer);
        source.acquire({ signal: acquirer.controller.signal }).then(
          (permit) => {
            acquirer.settled = true;
            holders++;
            // Lowering a limiter's total never revokes: the bound is the largest limit seen.
            if (!limitChanged && holders > initial) failure ??= `${holders} holders of ${initial}`;
            grants.push(acquirer.index);
            held.push(permit);
          },
          () => {
            acquirer.settled = true;
          },
        );
        break;
      }
      case "abort": {
        const live = acquirers.filter((a) => !a.settled && !a.controller.signal.aborted);
        live[command.pick % Math.max(1, live.length)]?.controller.abort(new CancelledError());
        break;
      }
      case "release": {
        if (held.length === 0) break;
        const [permit] = held.splice(command.pick % held.length, 1);
        holders--;
        permit?.release();
        if (command.twice) permit?.release();
        break;
      }
      case "limit": {
        if (kind.setLimit === undefined) break;
        kind.setLimit(source, command.value);
        limitChanged = true;
        break;
      }
      case "flush": {
        await flush();
        checkBalanced();
        break;
      }
    }
  }
  await flush();
  assert.equal(failure, undefined);
  checkBalanced();
  assert.ok(
    grants.every((index, k) => k === 0 || index > (grants[k - 1] as number)),
    `granted in call order (FIFO): ${grants.join(",")}`,
  );
  // Give up on everyone still waiting, then give every permit back.
  for (const acquirer of acquirers) acquirer.controller.abort();
  await flush();
  assert.ok(
    acquirers.every((a) => a.settled),
    "every acquire settled",
  );
  assert.equal(kind.waiting(source), 0);
  for (const permit of held) permit.release();
  holders = 0;
  assert.equal(kind.free(source), kind.limit(source, initial), "every permit came back");
}

describe("properties: semaphores and locks", () => {
  for (const kind of semaphoreKinds) {
    it(`${kind.name}: holders never exceed the limit, permits are conserved, grants are FIFO`, async () => {
      await withVirtualClock(async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 3 }),
            fc.array(semCommand, { maxLength: 50, size: "max" }),
            (initial, commands) => checkSemaphoreSchedule(kind, initial, commands),
          ),
          { numRuns: RUNS },
        );
      });
    });
  }

  it("Semaphore: timed tasks that give up on deadlines never break the limit or FIFO", async () => {
    const task = fc.record({
      arrive: fc.nat({ max: 50 }),
      patience: fc.option(fc.nat({ max: 30 }), { nil: undefined }),
      hold: fc.nat({ max: 20 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(task, { maxLength: 25 }),
        (value, tasks) =>
          withVirtualClock(
            async (clock) => {
              const sem = new Semaphore(value);
              let holders = 0;
              let most = 0;
              let calls = 0;
              const grants: number[] = [];
              const run = async ({
                arrive,
                patience,
                hold,
              }: (typeof tasks)[number]): Promise<void> => {
                await sleep(arrive);
                const controller = new AbortController();
                const timer =
                  patience === undefined
                    ? undefined
                    : getClock().setTimer(() => controller.abort(new CancelledError()), patience);
                const index = calls++;
                let permit: Permit;
                try {
                  permit = await sem.acquire({ signal: controller.signal });
                } catch {
                  return;
                } finally {
                  if (timer !== undefined) getClock().clearTimer(timer);
                }
                grants.push(index);
                holders++;
                most = Math.max(most, holders);
                await sleep(hold);
                holders--;
                permit.release();
              };
              const all = Promise.all(tasks.map(run));
              await clock.runAll();
              await all;
              assert.ok(most <= value, `${most} holders of ${value}`);
              assert.equal(sem.value, value);
              assert.equal(sem.statistics().waiting, 0);
              assert.ok(grants.every((index, k) => k === 0 || index > (grants[k - 1] as number)));
            },
            { start: 0 },
          ),
      ),
      { numRuns: 100 },
    );
  });
});

// --- queues -----------------------------------------------------------------

type QueueCommand =
  | { readonly op: "put" }
  | { readonly op: "putNowait" }
  | { readonly op: "get" }
  | { readonly op: "getNowait" }
  | { readonly op: "abort"; readonly pick: number }
  | { readonly op: "flush" };

const queueCommand: fc.Arbitrary<QueueCommand> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ op: "put" } as const) },
  { weight: 1, arbitrary: fc.constant({ op: "putNowait" } as const) },
  { weight: 4, arbitrary: fc.constant({ op: "get" } as const) },
  { weight: 1, arbitrary: fc.constant({ op: "getNowait" } as const) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("abort" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ op: "flush" } as const) },
);

interface Pending {
  readonly controller: AbortController;
  settled: boolean;
}

interface QueueKind {
  readonly name: string;
  make(maxsize: number): Queue<number>;
  readonly fifo: boolean;
}

const queueKinds: QueueKind[] = [
  { name: "Queue", make: (maxsize) => new Queue<number>({ maxsize }), fifo: true },
  { name: "LifoQueue", make: (maxsize) => new LifoQueue<number>({ maxsize }), fifo: false },
  { name: "PriorityQueue", make: (maxsize) => new PriorityQueue<number>({ maxsize }), fifo: false },
];

async function checkQueueSchedule(
  kind: QueueKind,
  maxsize: number,
  commands: readonly QueueCommand[],
): Promise<void> {
  const queue = kind.make(maxsize);
  const accepted = new Set<number>();
  const refused = new Set<number>();
  // Successful gets by call order: [get call index, item].
  const received: [number, number][] = [];
  const pending: Pending[] = [];
  let nextItem = 0;
  let getCalls = 0;

  for (const command of commands) {
    switch (command.op) {
      case "put": {
        const item = nextItem++;
        const op: Pending = { controller: new AbortController(), settled: false };
        pending.push(op);
        queue.put(item, { signal: op.controller.signal }).then(
          () => {
            op.settled = true;
            accepted.add(item);
          },
          () => {
            op.settled = true;
            refused.add(item);
          },
        );
        break;
      }
      case "putNowait": {
        const item = nextItem++;
        try {
          queue.putNowait(item);
          accepted.add(item);
        } catch {
          refused.add(item);
        }
        break;
      }
      case "get": {
        const index = getCalls++;
        const op: Pending = { controller: new AbortController(), settled: false };
        pending.push(op);
        queue.get({ signal: op.controller.signal }).then(
          (item) => {
            op.settled = true;
            received.push([index, item]);
          },
          () => {
            op.settled = true;
          },
        );
        break;
      }
      case "getNowait": {
        const index = getCalls++;
        try {
          received.push([index, queue.getNowait()]);
        } catch {}
        break;
      }
      case "abort": {
        const live = pending.filter((p) => !p.settled && !p.controller.signal.aborted);
        live[command.pick % Math.max(1, live.length)]?.controller.abort(new CancelledError());
        break;
      }
      case "flush": {
        await flush();
        const stats = queue.statistics();
        if (stats.waitingGetters > 0)
          assert.equal(stats.size, 0, "getters wait only on an empty queue");
        if (stats.waitingPutters > 0)
          assert.equal(stats.size, maxsize, "putters wait only on a full queue");
        break;
      }
    }
  }
  for (const op of pending) op.controller.abort();
  await flush();
  assert.ok(
    pending.every((p) => p.settled),
    "every put and get settled",
  );
  while (!queue.empty) received.push([getCalls++, queue.getNowait()]);
  const stats = queue.statistics();
  assert.equal(stats.waitingGetters, 0);
  assert.equal(stats.waitingPutters, 0);
  assert.equal(stats.unfinishedTasks, accepted.size, "one unfinished task per accepted item");

  const out = received.map(([, item]) => item);
  assert.equal(new Set(out).size, out.length, "no item came out twice");
  assert.deepEqual(
    [...out].sort((a, b) => a - b),
    [...accepted].sort((a, b) => a - b),
    "items out = items in",
  );
  for (const item of out) assert.equal(refused.has(item), false, "no refused item came out");
  assert.equal(accepted.size + refused.size, nextItem, "every put settled one way");
  if (kind.fifo) {
    const inCallOrder = [...received].sort((a, b) => a[0] - b[0]).map(([, item]) => item);
    assert.ok(
      inCallOrder.every((item, k) => k === 0 || item > (inCallOrder[k - 1] as number)),
      `FIFO: ${inCallOrder.join(",")}`,
    );
  }
}

describe("properties: queues", () => {
  for (const kind of queueKinds) {
    it(`${kind.name}: no item lost or duplicated on random schedules with aborts`, async () => {
      await withVirtualClock(async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(1, 2, 3, Number.POSITIVE_INFINITY),
            fc.array(queueCommand, { maxLength: 50, size: "max" }),
            (maxsize, commands) => checkQueueSchedule(kind, maxsize, commands),
          ),
          { numRuns: RUNS },
        );
      });
    });
  }

  it("Queue: timed producers and consumers with deadlines: items out = items in, in order per producer", async () => {
    const actor = fc.record({
      arrive: fc.nat({ max: 40 }),
      patience: fc.option(fc.nat({ max: 20 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 5),
        fc.array(fc.array(actor, { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        fc.array(actor, { maxLength: 20 }),
        (maxsize, producers, consumers) =>
          withVirtualClock(async (clock) => {
            const queue = new Queue<[number, number]>({ maxsize });
            const accepted: [number, number][] = [];
            const received: [number, number][] = [];
            const withPatience = async <T>(
              patience: number | undefined,
              op: (signal: AbortSignal) => Promise<T>,
            ): Promise<T | undefined> => {
              const controller = new AbortController();
              const timer =
                patience === undefined
                  ? undefined
                  : getClock().setTimer(() => controller.abort(new CancelledError()), patience);
              try {
                return await op(controller.signal);
              } catch {
                return undefined;
              } finally {
                if (timer !== undefined) getClock().clearTimer(timer);
              }
            };
            const produce = async (
              p: number,
              items: (typeof consumers)[number][],
            ): Promise<void> => {
              for (const [i, { arrive, patience }] of items.entries()) {
                await sleep(arrive);
                const ok = await withPatience(patience, (signal) =>
                  queue.put([p, i], { signal }).then(() => true),
                );
                if (ok) accepted.push([p, i]);
              }
            };
            const consume = async ({
              arrive,
              patience,
            }: (typeof consumers)[number]): Promise<void> => {
              await sleep(arrive);
              const item = await withPatience(patience, (signal) => queue.get({ signal }));
              if (item !== undefined) received.push(item);
            };
            const all = Promise.all([
              ...producers.map((items, p) => produce(p, items)),
              ...consumers.map(consume),
            ]);
            // Drain what is left (letting blocked producers finish), then shut the
            // queue down to release the consumers still waiting.
            for (;;) {
              await clock.runAll();
              if (queue.empty) break;
              received.push(queue.getNowait());
            }
            queue.shutdown();
            await all;
            const key = ([p, i]: [number, number]): number => p * 1000 + i;
            assert.deepEqual(
              received.map(key).sort((a, b) => a - b),
              accepted.map(key).sort((a, b) => a - b),
            );
            for (let p = 0; p < producers.length; p++) {
              const mine = received.filter(([from]) => from === p).map(([, i]) => i);
              assert.ok(
                mine.every((i, k) => k === 0 || i > (mine[k - 1] as number)),
                "per-producer order",
              );
            }
          }),
      ),
      { numRuns: 100 },
    );
  });
});

// --- condition --------------------------------------------------------------

describe("properties: condition", () => {
  it("every notify(1) with a live waiter wakes exactly one, whatever aborts land in the same tick", async () => {
    type Step =
      | { readonly op: "wait" }
      | { readonly op: "abort"; readonly pick: number }
      | { readonly op: "notify" }
      | { readonly op: "flush" };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant({ op: "wait" } as const),
      fc.record({ op: fc.constant("abort" as const), pick: fc.nat() }),
      fc.constant({ op: "notify" } as const),
      fc.constant({ op: "flush" } as const),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40, size: "max" }), async (steps) => {
        const cond = new Condition();
        const waiters: { controller: AbortController; outcome?: "woken" | "aborted" }[] = [];
        let notified = 0;
        let lockViolations = 0;
        for (const s of steps) {
          if (s.op === "wait") {
            const waiter: (typeof waiters)[number] = { controller: new AbortController() };
            waiters.push(waiter);
            void (async () => {
              const permit = await cond.acquire();
              try {
                await cond.wait({ signal: waiter.controller.signal });
                waiter.outcome = "woken";
              } catch {
                waiter.outcome = "aborted";
              } finally {
                if (!cond.locked) lockViolations++; // must hold the lock again either way
                permit.release();
              }
            })();
          } else if (s.op === "abort") {
            const live = waiters.filter(
              (w) => w.outcome === undefined && !w.controller.signal.aborted,
            );
            live[s.pick % Math.max(1, live.length)]?.controller.abort();
          } else if (s.op === "notify") {
            if (cond.locked) continue; // someone is between acquire and wait: try later
            const permit = await cond.acquire();
            if (cond.statistics().waiting > 0) notified++;
            cond.notify(1);
            permit.release();
          } else {
            await flush();
          }
        }
        await flush();
        for (const w of waiters) w.controller.abort();
        await flush();
        assert.equal(lockViolations, 0);
        assert.ok(waiters.every((w) => w.outcome !== undefined));
        const woken = waiters.filter((w) => w.outcome === "woken").length;
        assert.equal(woken, notified, "one waiter per notification: none lost, none doubled");
        assert.equal(cond.locked, false);
      }),
      { numRuns: RUNS },
    );
  });
});
