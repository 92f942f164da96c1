import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
} from "../../src/index.js";
import { flush, listeners, track } from "./helpers.js";

describe("Queue", () => {
  it("returns items first in, first out and reports size, empty and full", async () => {
    const queue = new Queue<string>({ maxsize: 2 });
    assert.equal(queue.maxsize, 2);
    assert.equal(queue.empty, true);
    assert.equal(queue.full, false);
    await queue.put("a");
    queue.putNowait("b");
    assert.equal(queue.size, 2);
    assert.equal(queue.full, true);
    assert.equal(queue.empty, false);
    assert.equal(await queue.get(), "a");
    assert.equal(queue.getNowait(), "b");
    assert.equal(queue.empty, true);
  });

  it("is unbounded when maxsize is omitted, 0 (as in asyncio) or Infinity", () => {
    for (const queue of [
      new Queue<number>(),
      new Queue<number>({ maxsize: 0 }),
      new Queue<number>({ maxsize: Number.POSITIVE_INFINITY }),
    ]) {
      assert.equal(queue.maxsize, Number.POSITIVE_INFINITY);
      for (let i = 0; i < 1000; i++) queue.putNowait(i);
      assert.equal(queue.full, false);
    }
  });

  it("keeps order across ring-buffer wrap-around and growth", () => {
    const queue = new Queue<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 1; round <= 40; round++) {
      for (let i = 0; i < round * 3; i++) queue.putNowait(next++);
      for (let i = 0; i < round * 2; i++) out.push(queue.getNowait());
    }
    while (!queue.empty) out.push(queue.getNowait());
    assert.deepEqual(
      out,
      Array.from({ length: next }, (_, i) => i),
    );
  });

  it("put() waits while the queue is full, and the first get() lets the first waiting putter in", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    await queue.put(1);
    const second = track(queue.put(2));
    const third = track(queue.put(3));
    await flush();
    assert.equal(second.status, "pending");
    assert.equal(queue.statistics().waitingPutters, 2);
    assert.equal(queue.getNowait(), 1);
    assert.equal(queue.size, 1, "2 moved in, in the same step");
    await flush();
    assert.equal(second.status, "fulfilled");
    assert.equal(third.status, "pending");
    assert.equal(await queue.get(), 2);
    assert.equal(await queue.get(), 3);
    assert.equal(third.status, "fulfilled");
  });

  it("get() waits while empty, and put() hands the item straight to the first waiting getter", async () => {
    const queue = new Queue<string>({ maxsize: 1 });
    const first = track(queue.get());
    const second = track(queue.get());
    await flush();
    assert.equal(first.status, "pending");
    queue.putNowait("x");
    queue.putNowait("y"); // not full: "x" did not stay in the queue
    assert.equal(queue.size, 0);
    await flush();
    assert.equal(first.value, "x");
    assert.equal(second.value, "y");
  });

  it("putNowait() throws QueueFull and getNowait() throws QueueEmpty", () => {
    const queue = new Queue<number>({ maxsize: 1 });
    assert.throws(
      () => queue.getNowait(),
      (e) => {
        assert.ok(e instanceof QueueEmpty);
        assert.equal(e.name, "QueueEmpty");
        assert.equal(e.message, "Cannot get from the queue: it is empty");
        return true;
      },
    );
    queue.putNowait(1);
    assert.throws(
      () => queue.putNowait(2),
      (e) => {
        assert.ok(e instanceof QueueFull);
        assert.equal(e.name, "QueueFull");
        assert.equal(e.maxsize, 1);
        assert.equal(e.message, "Cannot put into the queue: it is full (maxsize 1)");
        return true;
      },
    );
    assert.equal(queue.size, 1);
  });

  it("a getter aborted before an item arrives takes nothing: the item goes to the next live getter", async () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    const aborted = track(queue.get({ signal: controller.signal }));
    const live = track(queue.get());
    controller.abort("gone");
    assert.equal(queue.statistics().waitingGetters, 1);
    assert.equal(listeners(controller.signal), 0);
    await queue.put("item");
    await flush();
    assert.equal(aborted.status, "rejected");
    assert.equal(aborted.reason, "gone");
    assert.equal(live.value, "item");
    assert.equal(queue.size, 0);
  });

  it("a getter handed an item in the same tick its signal aborts keeps the item", async () => {
    const queue = new Queue<string>();
    const controller = new AbortController();
    const getter = track(queue.get({ signal: controller.signal }));
    queue.putNowait("item");
    controller.abort();
    await flush();
    assert.equal(getter.status, "fulfilled");
    assert.equal(getter.value, "item");
    assert.equal(queue.size, 0, "not duplicated either");
  });

  it("a putter aborted while waiting does not add its item", async () => {
    const queue = new Queue<string>({ maxsize: 1 });
    queue.putNowait("first");
    const controller = new AbortController();
    const aborted = track(queue.put("aborted", { signal: controller.signal }));
    const live = track(queue.put("live"));
    controller.abort("no room");
    assert.equal(listeners(controller.signal), 0);
    assert.equal(queue.getNowait(), "first");
    assert.equal(queue.getNowait(), "live");
    assert.equal(queue.empty, true);
    await flush();
    assert.equal(aborted.status, "rejected");
    assert.equal(aborted.reason, "no room");
    assert.equal(live.status, "fulfilled");
    assert.equal(queue.statistics().unfinishedTasks, 2, "the aborted item was never counted");
  });

  it("a putter let in the same tick its signal aborts resolves, and its item stays in", async () => {
    const queue = new Queue<string>({ maxsize: 1 });
    queue.putNowait("first");
    const controller = new AbortController();
    const putter = track(queue.put("second", { signal: controller.signal }));
    queue.getNowait();
    controller.abort();
    await flush();
    assert.equal(putter.status, "fulfilled");
    assert.equal(queue.getNowait(), "second");
  });

  it("an already-aborted signal rejects at once: put adds nothing, get takes nothing", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    const signal = AbortSignal.abort("no");
    await assert.rejects(queue.put(2, { signal }), (e) => e === "no");
    await assert.rejects(queue.get({ signal }), (e) => e === "no");
    await assert.rejects(queue.join({ signal }), (e) => e === "no");
    assert.equal(queue.size, 1);
    assert.equal(queue.getNowait(), 1);
  });

  it("serves waiting getters and putters first come, first served", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    const got: string[] = [];
    const getters = ["a", "b", "c"].map((name) =>
      queue.get().then((item) => got.push(`${name}:${item}`)),
    );
    for (let i = 0; i < 3; i++) await queue.put(i);
    await Promise.all(getters);
    assert.deepEqual(got, ["a:0", "b:1", "c:2"]);
    queue.putNowait(10);
    const puts = [11, 12, 13].map((i) => queue.put(i));
    const out = [];
    for (let i = 0; i < 4; i++) out.push(await queue.get());
    await Promise.all(puts);
    assert.deepEqual(out, [10, 11, 12, 13]);
  });

  it("moves 100,000 items from 4 producers to 4 consumers without loss, duplication or reordering", async () => {
    const queue = new Queue<[number, number]>({ maxsize: 7 });
    const perProducer = 25_000;
    const received: [number, number][][] = [[], [], [], []];
    const producers = [0, 1, 2, 3].map(async (p) => {
      for (let i = 0; i < perProducer; i++) await queue.put([p, i]);
    });
    const consumers = [0, 1, 2, 3].map(async (c) => {
      for (let i = 0; i < perProducer; i++) received[c]?.push(await queue.get());
    });
    await Promise.all([...producers, ...consumers]);
    const all = received.flat();
    assert.equal(all.length, 4 * perProducer);
    for (let p = 0; p < 4; p++) {
      const mine = all.filter(([from]) => from === p).map(([, i]) => i);
      assert.equal(mine.length, perProducer);
      for (const list of received) {
        const seen = list.filter(([from]) => from === p).map(([, i]) => i);
        assert.ok(
          seen.every((v, k) => k === 0 || v > (seen[k - 1] as number)),
          "each consumer sees a producer's items in order",
        );
      }
    }
  });

  it("rejects bad options with a TypeError naming them", async () => {
    assert.throws(() => new Queue({ maxsize: -1 }), {
      name: "TypeError",
      message: "Expected `maxsize` to be an integer from 0 and up, got -1 (number)",
    });
    assert.throws(() => new Queue({ maxsize: 1.5 }), TypeError);
    const queue = new Queue<number>();
    await assert.rejects(queue.put(1, { signal: 1 as unknown as AbortSignal }), TypeError);
    await assert.rejects(queue.get({ signal: 1 as unknown as AbortSignal }), TypeError);
    await assert.rejects(queue.join({ signal: 1 as unknown as AbortSignal }), TypeError);
    assert.equal(queue.size, 0);
  });

  it("size, maxsize, empty and full are read-only properties", () => {
    const queue = new Queue<number>();
    for (const key of ["size", "maxsize", "empty", "full"]) {
      assert.throws(() => {
        (queue as unknown as Record<string, unknown>)[key] = 1;
      }, TypeError);
    }
  });

  it("statistics() is a frozen snapshot of the queue", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    queue.putNowait(1);
    void queue.put(2);
    void queue.join();
    const stats = queue.statistics();
    assert.deepEqual(stats, {
      size: 1,
      maxsize: 1,
      unfinishedTasks: 1,
      waitingGetters: 0,
      waitingPutters: 1,
      waitingJoiners: 1,
      shutDown: false,
    });
    assert.ok(Object.isFrozen(stats));
  });

  it("awaits an item that is a promise on the way out (as any promise resolution does)", async () => {
    const queue = new Queue<Promise<number>>();
    queue.putNowait(Promise.resolve(5));
    assert.equal(await queue.get(), 5);
    const wrapped = new Queue<{ promise: Promise<number> }>();
    const promise = Promise.resolve(6);
    wrapped.putNowait({ promise });
    assert.equal((await wrapped.get()).promise, promise);
  });
});

describe("Queue.taskDone() and join()", () => {
  it("join() resolves at once when nothing was put", async () => {
    await new Queue().join();
  });

  it("join() waits until every item put was marked done", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    queue.putNowait(2);
    const joined = track(queue.join());
    await queue.get();
    queue.taskDone();
    await flush();
    assert.equal(joined.status, "pending");
    await queue.get();
    queue.taskDone();
    await flush();
    assert.equal(joined.status, "fulfilled");
  });

  it("counts items handed straight to a getter and items let in from a waiting putter", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    const getter = queue.get();
    queue.putNowait(1); // handed over
    queue.putNowait(2);
    const putter = queue.put(3); // waits
    assert.equal(queue.statistics().unfinishedTasks, 2);
    assert.equal(await getter, 1);
    queue.getNowait(); // lets 3 in
    await putter;
    assert.equal(queue.statistics().unfinishedTasks, 3);
  });

  it("taskDone() more times than items were put throws a RangeError", () => {
    const queue = new Queue<number>();
    assert.throws(() => queue.taskDone(), {
      name: "RangeError",
      message:
        "Cannot mark a task done: taskDone() was called more times than items were put in the queue",
    });
    queue.putNowait(1);
    queue.taskDone();
    assert.throws(() => queue.taskDone(), RangeError);
  });

  it("an aborted join() rejects with the reason and leaves no listener", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    const controller = new AbortController();
    const joined = track(queue.join({ signal: controller.signal }));
    controller.abort("enough");
    await flush();
    assert.equal(joined.reason, "enough");
    assert.equal(listeners(controller.signal), 0);
    assert.equal(queue.statistics().waitingJoiners, 0);
  });
});

describe("Queue.shutdown()", () => {
  it("makes put() reject with QueueShutDown, waiting putters too, without adding their items", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    queue.putNowait(1);
    const waiting = track(queue.put(2));
    queue.shutdown();
    await flush();
    assert.equal(waiting.status, "rejected");
    assert.ok(waiting.reason instanceof QueueShutDown);
    assert.equal((waiting.reason as Error).message, "Cannot put into the queue: it is shut down");
    await assert.rejects(queue.put(3), QueueShutDown);
    assert.throws(() => queue.putNowait(3), { name: "QueueShutDown" });
    assert.equal(queue.size, 1);
  });

  it("lets get() drain the remaining items, then rejects with QueueShutDown", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    queue.putNowait(2);
    queue.shutdown();
    assert.equal(await queue.get(), 1);
    assert.equal(queue.getNowait(), 2);
    await assert.rejects(queue.get(), {
      name: "QueueShutDown",
      message: "Cannot get from the queue: it is shut down and empty",
    });
    assert.throws(() => queue.getNowait(), QueueShutDown);
  });

  it("wakes every waiting getter with QueueShutDown", async () => {
    const queue = new Queue<number>();
    const getters = [track(queue.get()), track(queue.get())];
    queue.shutdown();
    await flush();
    assert.ok(getters.every((g) => g.reason instanceof QueueShutDown));
    assert.equal(queue.statistics().waitingGetters, 0);
  });

  it("keeps join() waiting for the items still to be processed", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    const joined = track(queue.join());
    queue.shutdown();
    await flush();
    assert.equal(joined.status, "pending");
    await queue.get();
    queue.taskDone();
    await flush();
    assert.equal(joined.status, "fulfilled");
  });

  it("immediate: drops the items, counts them done, and releases join() when nothing else is pending", async () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 5; i++) queue.putNowait(i);
    const joined = track(queue.join());
    queue.shutdown({ immediate: true });
    assert.equal(queue.size, 0);
    assert.equal(queue.statistics().unfinishedTasks, 0);
    await flush();
    assert.equal(joined.status, "fulfilled");
    await assert.rejects(queue.get(), QueueShutDown);
  });

  it("immediate: join() still waits for items a consumer took and has not marked done (as Python 3.13)", async () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 3; i++) queue.putNowait(i);
    queue.getNowait(); // being processed
    const joined = track(queue.join());
    queue.shutdown({ immediate: true });
    assert.equal(queue.statistics().unfinishedTasks, 1);
    await flush();
    assert.equal(joined.status, "pending");
    queue.taskDone();
    await flush();
    assert.equal(joined.status, "fulfilled");
  });

  it("is idempotent, and immediate after a plain shutdown still drops the items", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    queue.putNowait(2);
    queue.shutdown();
    queue.shutdown();
    assert.equal(queue.size, 2);
    queue.shutdown({ immediate: true });
    queue.shutdown({ immediate: true });
    assert.equal(queue.size, 0);
    assert.equal(queue.statistics().shutDown, true);
  });

  it("wakes getters and putters and joiners of a bounded queue at once with immediate", async () => {
    const queue = new Queue<number>({ maxsize: 1 });
    queue.putNowait(1);
    const putter = track(queue.put(2));
    const joiner = track(queue.join());
    queue.shutdown({ immediate: true });
    await flush();
    assert.ok(putter.reason instanceof QueueShutDown);
    assert.equal(joiner.status, "fulfilled");
  });
});

describe("Queue iteration", () => {
  it("for await yields items until the queue is shut down and drained", async () => {
    const queue = new Queue<number>();
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const item of queue) seen.push(item);
    })();
    for (let i = 0; i < 5; i++) await queue.put(i);
    queue.putNowait(5);
    queue.shutdown();
    await consumer;
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
  });

  it("ends at once after shutdown({ immediate: true })", async () => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    queue.shutdown({ immediate: true });
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    assert.deepEqual(seen, []);
  });

  it("iterate({ signal }) rejects with the reason when aborted while waiting, taking no item", async () => {
    const queue = new Queue<number>();
    const controller = new AbortController();
    const seen: number[] = [];
    const consumer = track(
      (async () => {
        for await (const item of queue.iterate({ signal: controller.signal })) seen.push(item);
      })(),
    );
    queue.putNowait(1);
    await flush();
    controller.abort("stop");
    queue.putNowait(2);
    await flush();
    assert.equal(consumer.status, "rejected");
    assert.equal(consumer.reason, "stop");
    assert.deepEqual(seen, [1]);
    assert.equal(queue.getNowait(), 2, "the item put after the abort is still there");
    assert.equal(listeners(controller.signal), 0);
  });

  it("breaking out of the loop leaves the other items in the queue", async () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 4; i++) queue.putNowait(i);
    for await (const item of queue) {
      if (item === 1) break;
    }
    assert.equal(queue.size, 2);
  });

  it("iterate() with a bad signal rejects with a TypeError", async () => {
    const queue = new Queue<number>();
    await assert.rejects(
      queue.iterate({ signal: "x" as unknown as AbortSignal }).next(),
      TypeError,
    );
  });
});

describe("LifoQueue", () => {
  it("returns the most recent item first", async () => {
    const queue = new LifoQueue<number>();
    for (let i = 0; i < 5; i++) queue.putNowait(i);
    const out = [];
    for (let i = 0; i < 5; i++) out.push(await queue.get());
    assert.deepEqual(out, [4, 3, 2, 1, 0]);
  });

  it("lets a waiting putter's item in on top when a get makes room", async () => {
    const queue = new LifoQueue<string>({ maxsize: 2 });
    queue.putNowait("a");
    queue.putNowait("b");
    const putter = track(queue.put("c"));
    assert.equal(queue.getNowait(), "b");
    await flush();
    assert.equal(putter.status, "fulfilled");
    assert.equal(queue.getNowait(), "c");
    assert.equal(queue.getNowait(), "a");
  });

  it("is a Queue, with the same shutdown semantics", async () => {
    const queue = new LifoQueue<number>();
    assert.ok(queue instanceof Queue);
    queue.putNowait(1);
    queue.shutdown({ immediate: true });
    assert.throws(() => queue.getNowait(), QueueShutDown);
  });
});

describe("PriorityQueue", () => {
  it("returns the smallest item first: numbers, strings, and arrays like Python tuples", () => {
    const numbers = new PriorityQueue<number>();
    for (const n of [5, 1, 4, 2, 3]) numbers.putNowait(n);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => numbers.getNowait()),
      [1, 2, 3, 4, 5],
    );
    const strings = new PriorityQueue<string>();
    for (const s of ["pear", "apple", "fig"]) strings.putNowait(s);
    assert.deepEqual(
      [0, 1, 2].map(() => strings.getNowait()),
      ["apple", "fig", "pear"],
    );
    const tuples = new PriorityQueue<[number, string]>();
    for (const t of [
      [2, "b"],
      [1, "z"],
      [2, "a"],
      [1, "y"],
    ] as [number, string][]) {
      tuples.putNowait(t);
    }
    assert.deepEqual(
      [0, 1, 2, 3].map(() => tuples.getNowait()),
      [
        [1, "y"],
        [1, "z"],
        [2, "a"],
        [2, "b"],
      ],
    );
  });

  it("is stable: equal priorities come out in the order they were put", () => {
    const queue = new PriorityQueue<{ priority: number; name: string }>({
      compare: (a, b) => a.priority - b.priority,
    });
    const names = ["a", "b", "c", "d", "e", "f"];
    names.forEach((name, i) => {
      queue.putNowait({ priority: i % 2, name });
    });
    const out = names.map(() => queue.getNowait().name);
    assert.deepEqual(out, ["a", "c", "e", "b", "d", "f"]);
  });

  it("sorts 100,000 random items", () => {
    const queue = new PriorityQueue<number>();
    const items = Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 100_003);
    for (const item of items) queue.putNowait(item);
    const out: number[] = [];
    while (!queue.empty) out.push(queue.getNowait());
    assert.deepEqual(
      out,
      [...items].sort((a, b) => a - b),
    );
  });

  it("refuses items the default order cannot compare, leaving the queue unchanged", async () => {
    const queue = new PriorityQueue<unknown>();
    assert.throws(() => queue.putNowait({}), {
      name: "TypeError",
      message: "Cannot order an object and an object in a PriorityQueue: pass a `compare` function",
    });
    queue.putNowait(1);
    await assert.rejects(queue.put("one"), /Cannot order "one" \(string\) and 1 \(number\)/);
    assert.equal(queue.size, 1);
    assert.equal(queue.statistics().unfinishedTasks, 1);
  });

  it("rejects a waiting putter whose item cannot be compared when it would be let in", async () => {
    const queue = new PriorityQueue<unknown>({ maxsize: 2 });
    queue.putNowait(1);
    queue.putNowait(2);
    const bad = track(queue.put("two"));
    const good = track(queue.put(3));
    assert.equal(queue.getNowait(), 1);
    await flush();
    assert.equal(bad.status, "rejected");
    assert.ok(bad.reason instanceof TypeError);
    assert.equal(good.status, "fulfilled");
    assert.equal(queue.getNowait(), 2);
    assert.equal(queue.getNowait(), 3);
    assert.equal(queue.statistics().unfinishedTasks, 3, "the refused item was never counted");
  });

  it("rejects put() with the error of a custom compare that throws, leaving the queue unchanged", async () => {
    const boom = new Error("cannot compare");
    const queue = new PriorityQueue<number>({
      compare: (a, b) => {
        if (a === 13 || b === 13) throw boom;
        return a - b;
      },
    });
    queue.putNowait(2);
    queue.putNowait(1);
    await assert.rejects(queue.put(13), (e) => e === boom);
    assert.throws(
      () => queue.putNowait(13),
      (e) => e === boom,
    );
    assert.equal(queue.size, 2);
    assert.equal(queue.statistics().unfinishedTasks, 2);
    assert.deepEqual([queue.getNowait(), queue.getNowait()], [1, 2]);
  });

  it("rejects a compare that is not a function", () => {
    assert.throws(() => new PriorityQueue({ compare: 1 as unknown as () => number }), {
      name: "TypeError",
      message: "Expected `compare` to be a function, got 1 (number)",
    });
  });

  it("hands an item straight to a waiting getter", async () => {
    const queue = new PriorityQueue<number>();
    const getter = queue.get();
    queue.putNowait(9);
    assert.equal(await getter, 9);
  });
});
