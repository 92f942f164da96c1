/** The producer's Feeder without Redis: the hooks an attached producer uses (early results, resend) and perKey. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Feeder, type WireJob } from "../../src/bullmq/feeder.js";
import { checkRunOptions } from "../../src/bullmq/options.js";

/** A Feeder over `inputs` whose sends are recorded; resolves once it pulled everything it may. */
function feeder(
  inputs: readonly string[],
  options: Parameters<typeof checkRunOptions<string>>[0],
  early?: (id: string) => string | undefined,
) {
  const sent: string[] = [];
  const f = new Feeder(
    inputs[Symbol.iterator](),
    checkRunOptions(options),
    "t",
    async (jobs: WireJob[]) => {
      for (const job of jobs) for (const item of job.data.items) sent.push(item.id);
    },
    early,
  );
  return { f, sent };
}

const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Feeder", () => {
  it("reports an input found in `early` instead of sending it", async () => {
    const known = new Map([["b", '{"s":"fulfilled","v":2,"a":1}']]);
    const { f, sent } = feeder(["a", "b", "c"], { id: (v) => hex(v) }, (id) =>
      known.get(hexToId(id)),
    );
    f.start();
    while (!f.done) await f.changed();
    assert.deepEqual(sent.map(hexToId), ["a", "c"]);
    assert.deepEqual(
      f.takeReady().map((r) => [hexToId(r.id), r.i, r.result]),
      [["b", 1, '{"s":"fulfilled","v":2,"a":1}']],
    );
    assert.deepEqual(f.takeReady(), [], "handed back once");
    assert.deepEqual([...f.pending.keys()].map(hexToId), ["a", "c"]);
  });

  it("a held input reported before it was sent (the dead producer's job) is never sent, and frees no slot", async () => {
    const { f, sent } = feeder(["a", "b", "c"], { id: (v) => hex(v), key: () => "k", perKey: 1 });
    f.start();
    while (!f.done) await f.changed();
    assert.deepEqual(sent.map(hexToId), ["a"]);
    // b's result comes in while b is held: reported, and `a` still holds the key.
    assert.equal(f.settle(hex("b")), 1);
    await f.sendReleased();
    assert.deepEqual(sent.map(hexToId), ["a"], "b was sent after its result, or c ran beside a");
    assert.equal(f.settle(hex("a")), 0);
    await f.sendReleased();
    assert.deepEqual(sent.map(hexToId), ["a", "c"]);
    assert.equal(f.settle(hex("c")), 2);
    assert.equal(f.pending.size, 0);
    await f.stop();
  });

  it("resend() sends pending inputs again, as jobs of one", async () => {
    const { f, sent } = feeder(["a", "b"], { id: (v) => hex(v) });
    f.start();
    while (!f.done) await f.changed();
    await f.resend([{ i: 1, id: hex("b"), input: "b" }]);
    await settled();
    assert.deepEqual(sent.map(hexToId), ["a", "b", "b"]);
    await f.stop();
  });
});

function hex(s: string): string {
  return Buffer.from(s).toString("hex");
}

function hexToId(h: string): string {
  return Buffer.from(h, "hex").toString();
}
