import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { refuseWait, WaitNode, WaitQueue } from "../../src/_internal/wait-queue.js";
import { flush, listeners, track } from "../sync/helpers.js";

describe("WaitQueue", () => {
  it("wakes waiters one at a time in FIFO order with the given value", async () => {
    const queue = new WaitQueue<string>();
    const waiters = [track(queue.wait()), track(queue.wait()), track(queue.wait())];
    assert.equal(queue.size, 3);
    assert.equal(queue.wakeOne("a"), true);
    assert.equal(queue.wakeOne("b"), true);
    await flush();
    assert.deepEqual(
      waiters.map((w) => w.value),
      ["a", "b", undefined],
    );
    assert.equal(queue.wakeAll("c"), 1);
    assert.equal(queue.wakeOne("d"), false);
    assert.equal(queue.size, 0);
  });

  it("carries data with each waiter; peekData() shows the first waiter's", () => {
    const queue = new WaitQueue<void, number>();
    assert.equal(queue.peekData(), undefined);
    void queue.wait(undefined, 1);
    void queue.wait(undefined, 2);
    assert.equal(queue.peekData(), 1);
    queue.wakeOne(undefined);
    assert.equal(queue.peekData(), 2);
  });

  it("rejectOne() and rejectAll() reject in FIFO order", async () => {
    const queue = new WaitQueue<void>();
    const waiters = [track(queue.wait()), track(queue.wait()), track(queue.wait())];
    assert.equal(queue.rejectOne("first"), true);
    assert.equal(queue.rejectAll("rest"), 2);
    assert.equal(queue.rejectOne("none"), false);
    await flush();
    assert.deepEqual(
      waiters.map((w) => w.reason),
      ["first", "rest", "rest"],
    );
  });

  it("removes an aborted waiter at once, from the head, the middle or the tail", async () => {
    for (const victim of [0, 1, 2]) {
      const queue = new WaitQueue<number, number>();
      const controllers = [0, 1, 2].map(() => new AbortController());
      const waiters = controllers.map((c, i) => track(queue.wait(c.signal, i)));
      controllers[victim]?.abort(`abort ${victim}`);
      assert.equal(queue.size, 2);
      assert.equal(listeners(controllers[victim]?.signal as AbortSignal), 0);
      const live = [0, 1, 2].filter((i) => i !== victim);
      assert.equal(queue.peekData(), live[0]);
      queue.wakeAll(7);
      await flush();
      assert.equal(waiters[victim]?.reason, `abort ${victim}`);
      for (const i of live) assert.equal(waiters[i]?.value, 7);
      for (const c of controllers) assert.equal(listeners(c.signal), 0);
    }
  });

  it("a waiter woken before its signal aborts keeps its value and drops its listener", async () => {
    const queue = new WaitQueue<string>();
    const controller = new AbortController();
    const waiter = track(queue.wait(controller.signal));
    queue.wakeOne("mine");
    assert.equal(listeners(controller.signal), 0);
    controller.abort();
    await flush();
    assert.equal(waiter.value, "mine");
  });

  it("rejects without queueing when the signal is already aborted", async () => {
    const queue = new WaitQueue<void>();
    await assert.rejects(queue.wait(AbortSignal.abort("no")), (e) => e === "no");
    assert.equal(queue.size, 0);
  });

  it("refuseWait() rejects a non-signal with a TypeError, an aborted one with its reason", async () => {
    assert.equal(refuseWait(undefined), undefined);
    assert.equal(refuseWait(new AbortController().signal), undefined);
    await assert.rejects(refuseWait(AbortSignal.abort("r")) as Promise<never>, (e) => e === "r");
    await assert.rejects(refuseWait(null) as Promise<never>, {
      name: "TypeError",
      message: "Expected `signal` to be an AbortSignal, got null",
    });
  });

  it("tells its owner of a waiter that left on abort, after rejecting it, and of nothing else", async () => {
    const seen: string[] = [];
    const queue = new WaitQueue<number>(() => seen.push(`left, size ${queue.size}`));
    const controller = new AbortController();
    const leaving = queue.wait(controller.signal);
    leaving.catch((e) => seen.push(`rejected ${String(e)}`));
    const staying = queue.wait();
    controller.abort("gone");
    assert.deepEqual(seen, ["left, size 1"]);
    await flush();
    assert.deepEqual(seen, ["left, size 1", "rejected gone"]);
    queue.wakeOne(1);
    assert.equal(await staying, 1);
    queue.wait().catch(() => undefined);
    queue.rejectAll(new Error("closed"));
    assert.deepEqual(seen, ["left, size 1", "rejected gone"]);
  });

  describe("an owner's own nodes (enqueue)", () => {
    // A node without a promise: it logs what the queue did to it.
    class Node extends WaitNode<string> {
      readonly log: string[] = [];
      constructor(readonly name: string) {
        super();
      }
      granted(value: string): void {
        this.log.push(`granted ${value}`);
      }
      refused(reason: unknown): void {
        this.log.push(`refused ${String(reason)}`);
      }
    }

    it("grants and refuses them in FIFO order, synchronously, each exactly once", () => {
      const queue = new WaitQueue<string>();
      const nodes = ["a", "b", "c", "d"].map((name) => new Node(name));
      for (const node of nodes) queue.enqueue(node);
      assert.equal(queue.size, 4);
      assert.equal(queue.peek(), nodes[0]);
      assert.equal(queue.wakeOne("1"), true);
      assert.deepEqual(nodes[0]?.log, ["granted 1"]); // no microtask in between
      assert.equal(nodes[0]?.queue, undefined);
      assert.equal(queue.rejectOne("no"), true);
      assert.equal(queue.wakeAll("2"), 2);
      assert.deepEqual(
        nodes.map((n) => n.log),
        [["granted 1"], ["refused no"], ["granted 2"], ["granted 2"]],
      );
      assert.equal(queue.size, 0);
      assert.equal(queue.peek(), undefined);
    });

    it("queues a node just ahead of another with `before`", () => {
      const queue = new WaitQueue<string>();
      const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => new Node(name)) as Node[] as [
        Node,
        Node,
        Node,
        Node,
      ];
      queue.enqueue(b);
      queue.enqueue(a, undefined, b); // ahead of the head
      queue.enqueue(d);
      queue.enqueue(c, undefined, d); // in the middle
      const order: string[] = [];
      while (queue.size > 0) {
        order.push((queue.peek() as Node).name);
        queue.wakeOne("x");
      }
      assert.deepEqual(order, ["a", "b", "c", "d"]);
    });

    it("an aborted node leaves at once, is refused with the reason, and the owner hears of it after", () => {
      const seen: string[] = [];
      const queue = new WaitQueue<string>((node) => {
        seen.push(`abandoned ${(node as Node).name}, size ${queue.size}`);
      });
      const controller = new AbortController();
      const a = new Node("a");
      const b = new Node("b");
      queue.enqueue(a, controller.signal);
      queue.enqueue(b);
      assert.equal(listeners(controller.signal), 1);
      controller.abort("gone");
      assert.deepEqual(a.log, ["refused gone"]);
      assert.deepEqual(seen, ["abandoned a, size 1"]);
      assert.equal(listeners(controller.signal), 0);
      assert.equal(queue.peek(), b);
      // A node granted before its signal aborts is not refused later.
      const late = new AbortController();
      const c = new Node("c");
      queue.enqueue(c, late.signal);
      queue.wakeAll("ok");
      late.abort("too late");
      assert.deepEqual(c.log, ["granted ok"]);
      assert.equal(c.signal, late.signal, "the node keeps its signal for its owner");
      assert.deepEqual(seen, ["abandoned a, size 1"]);
    });

    it("remove() takes a node out without settling it, once", () => {
      const queue = new WaitQueue<string>();
      const controller = new AbortController();
      const a = new Node("a");
      queue.enqueue(a, controller.signal);
      assert.equal(queue.remove(a), true);
      assert.equal(queue.remove(a), false);
      assert.equal(new WaitQueue<string>().remove(a), false);
      assert.equal(queue.size, 0);
      assert.equal(listeners(controller.signal), 0);
      controller.abort();
      assert.deepEqual(a.log, []);
    });

    it("moveFirstTo() moves the head, still waiting, its abort now heard by the new queue", () => {
      const heard: string[] = [];
      const from = new WaitQueue<string>(() => heard.push("from"));
      const to = new WaitQueue<string>(() => heard.push("to"));
      const controller = new AbortController();
      const a = new Node("a");
      const b = new Node("b");
      to.enqueue(b);
      from.enqueue(a, controller.signal);
      assert.equal(from.moveFirstTo(to), true);
      assert.equal(from.moveFirstTo(to), false);
      assert.deepEqual([from.size, to.size], [0, 2]);
      assert.equal(a.queue, to);
      assert.deepEqual(a.log, [], "moving settles nothing");
      assert.equal(listeners(controller.signal), 1);
      controller.abort("bye");
      assert.deepEqual(a.log, ["refused bye"]);
      assert.deepEqual(heard, ["to"]);
      assert.deepEqual([from.size, to.size], [0, 1]);
      assert.equal(listeners(controller.signal), 0);
    });

    it("peekData() is undefined when the head is an owner's node", () => {
      const queue = new WaitQueue<string, number>();
      queue.enqueue(new Node("a"));
      void queue.wait(undefined, 7);
      assert.equal(queue.peekData(), undefined);
      queue.wakeOne("x");
      assert.equal(queue.peekData(), 7);
    });
  });

  it("property: with many waiters of both kinds, random aborts, removals and moves, FIFO among the live ones and exact sizes", async () => {
    class Node extends WaitNode<number> {
      constructor(
        readonly id: number,
        readonly done: Map<number, string>,
      ) {
        super();
      }
      granted(value: number): void {
        assert.equal(this.done.has(this.id), false, "settled once");
        this.done.set(this.id, `granted ${value}`);
      }
      refused(reason: unknown): void {
        assert.equal(this.done.has(this.id), false, "settled once");
        this.done.set(this.id, `refused ${String(reason)}`);
      }
    }
    const op = fc.oneof(
      fc.record({ kind: fc.constant("node" as const), signal: fc.boolean(), toB: fc.boolean() }),
      fc.record({ kind: fc.constant("wait" as const), signal: fc.boolean() }),
      fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("move" as const) }),
      fc.record({ kind: fc.constant("wake" as const), fromB: fc.boolean() }),
      fc.record({ kind: fc.constant("reject" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 300 }), async (ops) => {
        const done = new Map<number, string>();
        const abandoned: number[] = [];
        const idOf = (node: WaitNode<number>): number =>
          node instanceof Node ? node.id : (promiseIds.get(node) ?? -1);
        const promiseIds = new WeakMap<WaitNode<number>, number>();
        const a = new WaitQueue<number>((node) => abandoned.push(idOf(node)));
        const b = new WaitQueue<number>((node) => abandoned.push(idOf(node)));
        // The model: ids in each queue, in order.
        const model = { a: [] as number[], b: [] as number[] };
        const controllers = new Map<number, AbortController>();
        const nodes = new Map<number, Node>();
        const waits: Promise<unknown>[] = [];
        const removed = new Set<number>(); // taken out unsettled
        let next = 0;
        for (const o of ops) {
          if (o.kind === "node" || o.kind === "wait") {
            const id = next++;
            const controller = o.signal ? new AbortController() : undefined;
            if (controller !== undefined) controllers.set(id, controller);
            if (o.kind === "node") {
              const node = new Node(id, done);
              nodes.set(id, node);
              (o.toB ? b : a).enqueue(node, controller?.signal);
              (o.toB ? model.b : model.a).push(id);
            } else {
              // A promise waiter in queue a: its id is learnt from the queue's tail.
              const before = a.size;
              const waiting = a.wait(controller?.signal);
              assert.equal(a.size, before + 1);
              let tail = a.peek();
              while (tail?.next !== undefined) tail = tail.next;
              promiseIds.set(tail as WaitNode<number>, id);
              waits.push(
                waiting.then(
                  (value) => done.set(id, `granted ${value}`),
                  (reason: unknown) => done.set(id, `refused ${String(reason)}`),
                ),
              );
              model.a.push(id);
            }
          } else if (o.kind === "abort") {
            const ids = [...controllers.keys()];
            if (ids.length === 0) continue;
            const id = ids[o.pick % ids.length] as number;
            (controllers.get(id) as AbortController).abort(`abort ${id}`);
            controllers.delete(id);
            for (const list of [model.a, model.b]) {
              const at = list.indexOf(id);
              if (at >= 0) {
                list.splice(at, 1);
                assert.equal(abandoned.at(-1), id);
              }
            }
          } else if (o.kind === "remove") {
            const ids = [...nodes.keys()];
            if (ids.length === 0) continue;
            const id = ids[o.pick % ids.length] as number;
            const node = nodes.get(id) as Node;
            const inA = model.a.indexOf(id);
            const inB = model.b.indexOf(id);
            assert.equal(a.remove(node), inA >= 0);
            assert.equal(b.remove(node), inB >= 0);
            if (inA >= 0) model.a.splice(inA, 1);
            if (inB >= 0) model.b.splice(inB, 1);
            if (inA >= 0 || inB >= 0) removed.add(id);
            nodes.delete(id);
          } else if (o.kind === "move") {
            assert.equal(a.moveFirstTo(b), model.a.length > 0);
            if (model.a.length > 0) model.b.push(model.a.shift() as number);
          } else if (o.kind === "wake") {
            const [queue, list] = o.fromB ? [b, model.b] : [a, model.a];
            const head = list.shift();
            assert.equal(queue.wakeOne(head ?? -1), head !== undefined);
          } else {
            const head = model.a.shift();
            assert.equal(a.rejectOne(`reject ${head}`), head !== undefined);
          }
          assert.equal(a.size, model.a.length);
          assert.equal(b.size, model.b.length);
          let at = a.peek();
          for (const id of model.a) {
            assert.equal(idOf(at as WaitNode<number>), id);
            at = at?.next;
          }
          assert.equal(at, undefined);
        }
        const leftA = [...model.a];
        const leftB = [...model.b];
        assert.equal(a.rejectAll("end"), leftA.length);
        assert.equal(b.wakeAll(99), leftB.length);
        await Promise.all(waits);
        // Each waiter settled once (a removed one never), with what its own turn handed it.
        assert.equal(done.size + removed.size, next);
        for (const id of removed) assert.equal(done.has(id), false);
        for (const id of leftA) assert.equal(done.get(id), "refused end");
        for (const id of leftB) assert.equal(done.get(id), "granted 99");
        for (const [id, what] of done) {
          if (what.startsWith("granted") && !leftB.includes(id)) {
            assert.equal(what, `granted ${id}`, "woken with its own id: FIFO");
          }
        }
        for (const controller of controllers.values())
          assert.equal(listeners(controller.signal), 0);
      }),
      { numRuns: 200 },
    );
  });
});
