import assert from "node:assert/strict";
import { EventEmitter, getEventListeners } from "node:events";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { CancelledError, Stream, stream } from "../../src/index.js";
import { waitIdle } from "../../src/testing/index.js";

describe("stream sources", () => {
  it("reads arrays, sets, generators and async generators", async () => {
    function* gen(): Generator<number> {
      yield 1;
      yield 2;
    }
    async function* agen(): AsyncGenerator<number> {
      yield 3;
      yield 4;
    }
    assert.deepEqual(await stream([1, 2]).toArray(), [1, 2]);
    assert.deepEqual(await stream(new Set(["a"])).toArray(), ["a"]);
    assert.deepEqual(await stream(gen()).toArray(), [1, 2]);
    assert.deepEqual(await Stream.from(agen()).toArray(), [3, 4]);
    assert.deepEqual(await stream(stream([5, 6])).toArray(), [5, 6]);
    assert.deepEqual(await stream("héllo").toArray(), ["h", "é", "l", "l", "o"]);
  });

  it("awaits promise items of a sync iterable; a rejected one fails the stream and closes the iterator", async () => {
    assert.deepEqual(await stream([Promise.resolve(1), 2]).toArray(), [1, 2]);
    let closed = false;
    function* items(): Generator<Promise<number>> {
      try {
        yield Promise.resolve(1);
        yield Promise.reject(new Error("bad promise"));
        yield Promise.resolve(3);
      } finally {
        closed = true;
      }
    }
    await assert.rejects(stream(items()).toArray(), /bad promise/);
    assert.equal(closed, true);
  });

  it("closes a sync iterator when stopped early", async () => {
    let closed = false;
    function* numbers(): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    assert.deepEqual(await stream(numbers()).take(2).toArray(), [0, 1]);
    assert.equal(closed, true);
  });

  it("adapts Node readable streams (they are async iterable) and destroys them when stopped early", async () => {
    assert.deepEqual(await stream(Readable.from(["a", "b", "c"])).toArray(), ["a", "b", "c"]);
    const readable = new Readable({
      objectMode: true,
      read() {
        this.push(Math.random());
      },
    });
    const got = await stream<number>(readable).take(3).toArray();
    assert.equal(got.length, 3);
    await waitIdle();
    assert.equal(readable.destroyed, true);
    const failing = new Readable({
      read() {
        this.destroy(new Error("disk on fire"));
      },
    });
    await assert.rejects(stream(failing).toArray(), /disk on fire/);
  });

  it("adapts web ReadableStreams and cancels them when stopped early", async () => {
    const whole = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1);
        controller.enqueue(2);
        controller.close();
      },
    });
    assert.deepEqual(await stream(whole).toArray(), [1, 2]);
    let cancelled: unknown = "not cancelled";
    let n = 0;
    const endless = new ReadableStream<number>({
      pull(controller) {
        controller.enqueue(n++);
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    assert.deepEqual(await stream(endless).take(2).toArray(), [0, 1]);
    assert.ok(cancelled instanceof CancelledError);
    const broken = new ReadableStream({
      pull(controller) {
        controller.error(new Error("network down"));
      },
    });
    await assert.rejects(stream(broken).toArray(), /network down/);
  });

  it("a signal unblocks a source stuck in next(): the consumer rejects with the reason at once", async () => {
    let closeRequested = false;
    const stuck: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => {}),
        return: async () => {
          closeRequested = true;
          return { value: undefined, done: true };
        },
      }),
    };
    const controller = new AbortController();
    const pending = stream(stuck, { signal: controller.signal }).toArray();
    await waitIdle();
    controller.abort("give up");
    await assert.rejects(pending, (e) => e === "give up");
    assert.equal(closeRequested, true);
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  });

  it("a stream's signal applies to streams derived from it", async () => {
    const controller = new AbortController();
    controller.abort("before");
    const derived = stream([1, 2], { signal: controller.signal }).map((x) => x * 2);
    await assert.rejects(derived.toArray(), (e) => e === "before");
    const it = derived[Symbol.asyncIterator]();
    await assert.rejects(it.next(), (e) => e === "before");
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  describe("Stream.fromPush", () => {
    it("delivers pushed values in order, then ends; teardown runs once", async () => {
      let teardowns = 0;
      const s = Stream.fromPush<number>((sink) => {
        sink.push(1);
        sink.push(2);
        queueMicrotask(() => {
          sink.push(3);
          sink.end();
          sink.push(4); // ignored after end
        });
        return () => {
          teardowns++;
        };
      });
      assert.deepEqual(await s.toArray(), [1, 2, 3]);
      assert.equal(teardowns, 1);
    });

    it("reports backpressure: push returns false when full and waitReady resolves when there is room", async () => {
      let sinkRef:
        | { push(v: number): boolean; waitReady(): Promise<void>; desiredSize: number }
        | undefined;
      const it = Stream.fromPush<number>(
        (sink) => {
          sinkRef = sink;
        },
        { bufferSize: 2 },
      )[Symbol.asyncIterator]();
      const first = it.next(); // starts the source
      const sink = sinkRef as NonNullable<typeof sinkRef>;
      assert.equal(sink.push(0), true, "handed straight to the waiting consumer");
      assert.deepEqual(await first, { value: 0, done: false });
      assert.equal(sink.push(1), true);
      assert.equal(sink.desiredSize, 1);
      assert.equal(sink.push(2), false, "full now: pause");
      let ready = false;
      const waiting = sink.waitReady().then(() => {
        ready = true;
      });
      await waitIdle();
      assert.equal(ready, false);
      assert.deepEqual(await it.next(), { value: 1, done: false });
      await waiting;
      assert.equal(ready, true);
      await it.return?.();
    });

    it("applies the overflow policy: error (default), drop-newest, drop-oldest", async () => {
      const fill = (sink: { push(v: number): boolean; end(): void }): void => {
        for (let i = 0; i < 5; i++) sink.push(i);
        sink.end();
      };
      await assert.rejects(Stream.fromPush<number>(fill, { bufferSize: 2 }).toArray(), RangeError);
      assert.deepEqual(
        await Stream.fromPush<number>(fill, { bufferSize: 2, overflow: "drop-newest" }).toArray(),
        [0, 1],
      );
      assert.deepEqual(
        await Stream.fromPush<number>(fill, { bufferSize: 2, overflow: "drop-oldest" }).toArray(),
        [3, 4],
      );
    });

    it("fail(error) fails the stream after the values pushed before it; setup errors fail it too", async () => {
      const got: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const x of Stream.fromPush<number>((sink) => {
            sink.push(1);
            sink.fail(new Error("producer died"));
          })) {
            got.push(x);
          }
        })(),
        /producer died/,
      );
      assert.deepEqual(got, [1]);
      await assert.rejects(
        Stream.fromPush(() => {
          throw new Error("setup threw");
        }).toArray(),
        /setup threw/,
      );
      await assert.rejects(
        Stream.fromPush(async () => {
          throw new Error("async setup threw");
        }).toArray(),
        /async setup threw/,
      );
    });

    it("stopping early aborts sink.signal, runs teardown and wakes a waiting producer", async () => {
      let teardowns = 0;
      let producerSignal: AbortSignal | undefined;
      let producerDone = false;
      const got = await Stream.fromPush<number>(
        (sink) => {
          producerSignal = sink.signal;
          void (async () => {
            for (let i = 0; !sink.signal.aborted; i++) {
              if (!sink.push(i)) await sink.waitReady();
            }
            producerDone = true;
          })();
          return () => {
            teardowns++;
          };
        },
        { bufferSize: 4 },
      )
        .take(3)
        .toArray();
      assert.deepEqual(got, [0, 1, 2]);
      await waitIdle();
      assert.equal(producerSignal?.aborted, true);
      assert.equal(teardowns, 1);
      assert.equal(producerDone, true);
    });

    it("rejects bad options eagerly", () => {
      assert.throws(() => Stream.fromPush(3 as unknown as () => void), /`setup`/);
      assert.throws(() => Stream.fromPush(() => {}, { bufferSize: 0 }), /`bufferSize`/);
      assert.throws(
        () => Stream.fromPush(() => {}, { overflow: "ignore" as "error" }),
        /`overflow`/,
      );
    });
  });

  describe("Stream.fromEvent", () => {
    it("streams an EventTarget's events, ends on endOn, and removes its listeners", async () => {
      const target = new EventTarget();
      const s = Stream.fromEvent<Event>(target, "tick", { endOn: "done" });
      const collected = s.map((event) => event.type).toArray();
      await waitIdle();
      assert.equal(getEventListeners(target, "tick").length, 1);
      target.dispatchEvent(new Event("tick"));
      target.dispatchEvent(new Event("tick"));
      target.dispatchEvent(new Event("done"));
      assert.deepEqual(await collected, ["tick", "tick"]);
      assert.equal(getEventListeners(target, "tick").length, 0);
      assert.equal(getEventListeners(target, "done").length, 0);
    });

    it("streams an emitter's first arguments and fails on its error event by default", async () => {
      const emitter = new EventEmitter();
      const got: string[] = [];
      const consumed = (async () => {
        for await (const line of Stream.fromEvent<string>(emitter, "line")) got.push(line);
      })();
      await waitIdle();
      emitter.emit("line", "a", "ignored");
      emitter.emit("line", "b");
      emitter.emit("error", new Error("socket reset"));
      await assert.rejects(consumed, /socket reset/);
      assert.deepEqual(got, ["a", "b"]);
      assert.equal(emitter.listenerCount("line"), 0);
      assert.equal(emitter.listenerCount("error"), 0);
    });

    it("stops listening when the consumer stops early", async () => {
      const emitter = new EventEmitter();
      const first = Stream.fromEvent<number>(emitter, "n").take(1).toArray();
      await waitIdle();
      emitter.emit("n", 7);
      assert.deepEqual(await first, [7]);
      assert.equal(emitter.listenerCount("n"), 0);
    });

    it("rejects targets that can't emit", () => {
      assert.throws(() => Stream.fromEvent({} as EventTarget, "x"), /EventTarget/);
      assert.throws(() => Stream.fromEvent(null as unknown as EventTarget, "x"), TypeError);
    });
  });
});
