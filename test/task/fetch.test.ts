import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { isCancellation, TimeoutError, taskGroup, timeout } from "../../src/index.js";

/** A server that accepts requests and never answers them, counting open connections. */
let server: ReturnType<typeof createServer>;
let url: string;
let requests = 0;
let arrived: (() => void) | undefined;

before(async () => {
  server = createServer(() => {
    requests++;
    arrived?.();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function nextRequests(n: number): Promise<void> {
  const target = requests + n;
  return new Promise((resolve) => {
    arrived = () => {
      if (requests >= target) resolve();
    };
  });
}

describe("cancellation reaches fetch with no glue code (rule 8)", () => {
  it("tg.cancel() aborts fetches in flight; the tasks end cancelled, the group cleanly", async () => {
    const inFlight = nextRequests(2);
    const states: string[] = [];
    await taskGroup(async (tg) => {
      const a = tg.spawn((signal) => fetch(url, { signal }));
      const b = tg.spawn((signal) => fetch(url, { signal }));
      await inFlight;
      tg.cancel();
      await Promise.allSettled([a, b]);
      states.push(a.state, b.state);
    });
    assert.deepEqual(states, ["cancelled", "cancelled"]);
  });

  it("a failing sibling aborts a fetch, and the fetch's rejection is not counted as an error", async () => {
    const inFlight = nextRequests(1);
    const boom = new Error("sibling failed");
    const error = await taskGroup((tg) => {
      tg.spawn((signal) => fetch(url, { signal }));
      tg.spawn(async () => {
        await inFlight;
        throw boom;
      });
    }).catch((e: unknown) => e);
    assert.ok(error instanceof AggregateError);
    assert.deepEqual(error.errors, [boom]);
  });

  it("timeout() aborts a hanging fetch and reports a TimeoutError", async () => {
    await assert.rejects(
      timeout(50, (signal) => fetch(url, { signal })),
      (e) => e instanceof TimeoutError && !isCancellation(e),
    );
  });
});
