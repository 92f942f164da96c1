/**
 * Property test of Pool under the virtual clock: random acquires (plain,
 * cancellable, timed), aborts, releases and destroys, against creates,
 * destroys and validates that succeed, throw, reject, or take time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type Lease, Pool, type PoolOptions } from "../../src/index.js";
import {
  getClock,
  type VirtualClock,
  waitIdle,
  withVirtualClock,
} from "../../src/testing/index.js";

interface Res {
  readonly id: number;
}

/** How one call of a callback behaves: sync or after `delay` ms; succeed or fail. */
interface Behaviour {
  readonly fail: boolean;
  readonly delay: number | undefined;
}

const behaviour = (failWeight: number): fc.Arbitrary<Behaviour> =>
  fc.record({
    fail: fc.integer({ min: 0, max: 99 }).map((n) => n < failWeight),
    delay: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  });

type Command =
  | { readonly t: "acquire"; readonly cancellable: boolean }
  | { readonly t: "abort"; readonly k: number }
  | { readonly t: "release"; readonly k: number; readonly destroy: boolean }
  | { readonly t: "advance"; readonly ms: number }
  /** A release and an abort in the same tick: the woken waiter may be the aborted one. */
  | { readonly t: "releaseAndAbort"; readonly k: number; readonly j: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("acquire"), cancellable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("abort"), k: fc.nat(40) }) },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("release"), k: fc.nat(40), destroy: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("advance"), ms: fc.integer({ min: 0, max: 80 }) }),
  },
) as fc.Arbitrary<Command>;

const config = fc.record({
  max: fc.integer({ min: 1, max: 4 }),
  minFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  idleTimeout: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  acquireTimeout: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  maxUses: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  maxWaiting: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  createRetries: fc.integer({ min: 0, max: 2 }),
  createRetryDelay: fc.constantFrom(0, 10),
  validate: fc.boolean(),
  creates: fc.array(behaviour(30), { minLength: 1, maxLength: 8 }),
  destroys: fc.array(behaviour(30), { minLength: 1, maxLength: 8 }),
  validates: fc.array(behaviour(30), { minLength: 1, maxLength: 8 }),
  respectSignal: fc.boolean(),
});

type Config = typeof config extends fc.Arbitrary<infer U> ? U : never;

/** Runs `fn` after `delay` ms on aiokit's clock, or now when `delay` is undefined. */
function after<T>(delay: number | undefined, fn: () => T): T | Promise<T> {
  if (delay === undefined) return fn();
  return new Promise<T>((resolve, reject) => {
    getClock().setTimer(() => {
      try {
        resolve(fn());
      } catch (error) {
        reject(error);
      }
    }, delay);
  });
}

interface Actor {
  readonly signal: AbortController | undefined;
  settled: boolean;
  lease: Lease<Res> | undefined;
  ended: boolean;
}

async function scenario(
  clock: VirtualClock,
  cfg: Config,
  commands: readonly Command[],
): Promise<void> {
  const max = cfg.max;
  let nextId = 0;
  let creating = 0;
  let calls = { create: 0, destroy: 0, validate: 0 };
  const alive = new Set<number>(); // created, not yet handed to destroy
  const createdIds: number[] = [];
  const destroyCount = new Map<number, number>();
  const held = new Set<number>(); // lent to an actor now
  const checkMoment = (where: string): void => {
    assert.ok(pool.stats.borrowed <= max, `${where}: borrowed ${pool.stats.borrowed} > max`);
    assert.ok(held.size <= max, `${where}: ${held.size} held > max`);
    assert.ok(alive.size + creating <= max, `${where}: ${alive.size} alive + ${creating} creating`);
  };

  const options: PoolOptions<Res> = {
    max,
    min: Math.floor(cfg.minFraction * max),
    idleTimeout: cfg.idleTimeout,
    acquireTimeout: cfg.acquireTimeout,
    maxUses: cfg.maxUses,
    maxWaiting: cfg.maxWaiting,
    createRetries: cfg.createRetries,
    createRetryDelay: cfg.createRetryDelay,
    create: (signal) => {
      // A pool that retries creates in a microtask loop would starve the clock: stop it, fail below.
      if (calls.create > 5_000) return new Promise<Res>(() => {});
      const b = cfg.creates[calls.create++ % cfg.creates.length] as Behaviour;
      creating++;
      checkMoment("create");
      const finish = (): Res => {
        if (b.fail) throw new Error("create failed");
        const res = { id: ++nextId };
        alive.add(res.id);
        createdIds.push(res.id);
        return res;
      };
      if (b.delay === undefined) {
        try {
          return finish();
        } finally {
          creating--;
        }
      }
      return new Promise<Res>((resolve, reject) => {
        const timer = getClock().setTimer(() => {
          signal.removeEventListener("abort", onAbort);
          creating--;
          try {
            resolve(finish());
          } catch (error) {
            reject(error);
          }
        }, b.delay as number);
        const onAbort = (): void => {
          if (!cfg.respectSignal) return;
          getClock().clearTimer(timer);
          creating--;
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    destroy: (res) => {
      const b = cfg.destroys[calls.destroy++ % cfg.destroys.length] as Behaviour;
      assert.ok(!held.has(res.id), `destroyed resource ${res.id} while it is lent`);
      assert.ok(alive.has(res.id), `destroyed resource ${res.id} that is not alive`);
      alive.delete(res.id);
      destroyCount.set(res.id, (destroyCount.get(res.id) ?? 0) + 1);
      return after(b.delay, () => {
        if (b.fail) throw new Error("destroy failed");
      });
    },
    onError: () => {},
    validate: cfg.validate
      ? (res) => {
          const b = cfg.validates[calls.validate++ % cfg.validates.length] as Behaviour;
          assert.ok(!held.has(res.id), `validated resource ${res.id} while it is lent`);
          return after(b.delay, () => {
            if (b.fail) throw new Error("validate failed");
            return res.id % 3 !== 0; // some resources are "broken"
          });
        }
      : undefined,
  };
  const pool = new Pool<Res>(options);
  const actors: Actor[] = [];

  const acquire = (cancellable: boolean): void => {
    const controller = cancellable ? new AbortController() : undefined;
    const actor: Actor = { signal: controller, settled: false, lease: undefined, ended: false };
    actors.push(actor);
    pool.acquire(controller === undefined ? undefined : { signal: controller.signal }).then(
      (lease) => {
        actor.settled = true;
        actor.lease = lease;
        const id = lease.value.id;
        assert.ok(!held.has(id), `resource ${id} lent twice`);
        held.add(id);
        checkMoment("acquired");
      },
      () => {
        actor.settled = true;
      },
    );
  };
  const end = (actor: Actor, destroy: boolean): void => {
    const lease = actor.lease;
    if (lease === undefined || actor.ended) return;
    actor.ended = true;
    held.delete(lease.value.id);
    void (destroy ? lease.destroy() : lease.release());
  };
  const abort = (k: number): void => {
    const cancellable = actors.filter((a) => a.signal !== undefined && !a.settled);
    cancellable[k % Math.max(1, cancellable.length)]?.signal?.abort(new Error("aborted"));
  };
  const release = (k: number, destroy: boolean): void => {
    const holders = actors.filter((a) => a.lease !== undefined && !a.ended);
    const actor = holders[k % Math.max(1, holders.length)];
    if (actor !== undefined) end(actor, destroy);
  };
  const unsettled = (): number => actors.filter((a) => !a.settled).length;

  for (const c of commands) {
    switch (c.t) {
      case "acquire":
        acquire(c.cancellable);
        break;
      case "abort":
        abort(c.k);
        break;
      case "release":
        release(c.k, c.destroy);
        break;
      case "releaseAndAbort":
        release(c.k, false);
        abort(c.j);
        break;
      case "advance":
        await clock.advance(c.ms);
        break;
    }
    await waitIdle();
    checkMoment(c.t);
    if (creating === 0) {
      assert.equal(pool.stats.waiting, unsettled(), "waiting = acquires not settled");
    }
    // The deprecated spelling (goes in 0.3.0) reads the same counter at every step.
    const stats = pool.stats;
    assert.equal(stats.pending, stats.waiting, "pending = waiting");
  }

  // No waiter hangs once capacity frees: give everything back until all settle.
  for (let round = 0; round < 500 && unsettled() > 0; round++) {
    for (const actor of actors) end(actor, false);
    await clock.advance(100);
  }
  assert.equal(unsettled(), 0, "an acquirer still waits after every lease came back");
  for (const actor of actors) end(actor, false);

  const closing = pool.close();
  let closed = false;
  void closing.then(() => {
    closed = true;
  });
  for (let round = 0; round < 500 && !closed; round++) await clock.advance(100);
  assert.ok(calls.create <= 5_000, "runaway creates");
  assert.equal(closed, true, "close() did not finish");
  assert.equal(creating, 0, "a create still runs after close()");
  for (const id of createdIds) {
    assert.equal(
      destroyCount.get(id),
      1,
      `resource ${id} destroyed ${destroyCount.get(id) ?? 0} times`,
    );
  }
  assert.equal(destroyCount.size, createdIds.length);
  assert.deepEqual(
    { ...pool.stats },
    {
      size: 0,
      available: 0,
      borrowed: 0,
      waiting: 0,
      created: createdIds.length,
      destroyed: createdIds.length,
    },
  );
  assert.equal(clock.pendingTimers, 0, "timers left behind");
  calls = { create: 0, destroy: 0, validate: 0 };
}

describe("Pool (property)", () => {
  it("keeps borrowed ≤ max, destroys every resource exactly once by close(), and leaves no waiter hanging", async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(command, { maxLength: 40 }), (cfg, commands) =>
        withVirtualClock((clock) => scenario(clock, cfg, commands)),
      ),
      { numRuns: 300 },
    );
  });
});
