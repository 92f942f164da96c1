/**
 * The pieces under `aiokit fetch`'s engine: the redirect rules, the shared
 * deadline list (on the virtual clock), one exchange on undici's handler API
 * (with a scripted dispatcher), and the request source's early end on Ctrl-C.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { Dispatcher } from "undici";
import { DeadlineEntry, Deadlines } from "../../src/cli/fetch/deadlines.js";
import { type ExchangeOptions, exchange } from "../../src/cli/fetch/exchange.js";
import { LineSet } from "../../src/cli/fetch/output.js";
import { type Hop, nextHop } from "../../src/cli/fetch/redirect.js";
import { RequestSource } from "../../src/cli/fetch/source.js";
import { now, TimeoutError } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";

const hop = (over: Partial<Hop> = {}): Hop => ({
  url: new URL("http://a.test/start"),
  method: "GET",
  headers: { authorization: "Bearer x", cookie: "c=1", "content-type": "text/plain", x: "y" },
  body: undefined,
  ...over,
});

describe("nextHop (redirects)", () => {
  it("follows 301, 302, 303, 307 and 308 to a Location resolved against the URL", () => {
    for (const status of [301, 302, 303, 307, 308]) {
      assert.equal(nextHop(hop(), status, "/next?q=1")?.url.href, "http://a.test/next?q=1");
    }
    assert.equal(nextHop(hop(), 302, ["http://b.test/x"])?.url.href, "http://b.test/x");
  });

  it("ends at anything else: other statuses, no Location, a Location that is not http(s)", () => {
    assert.equal(nextHop(hop(), 200, "/x"), undefined);
    assert.equal(nextHop(hop(), 304, "/x"), undefined);
    assert.equal(nextHop(hop(), 302, undefined), undefined);
    assert.equal(nextHop(hop(), 302, ""), undefined);
    assert.equal(nextHop(hop(), 302, "ftp://a.test/file"), undefined);
    assert.equal(nextHop(hop(), 302, "http://[bad"), undefined);
  });

  it("turns 303 (but HEAD) and a POST's 301/302 into a GET without the body and its headers", () => {
    const post = hop({ method: "POST", body: "data" });
    for (const status of [301, 302, 303]) {
      const next = nextHop(post, status, "/n");
      assert.equal(next?.method, "GET");
      assert.equal(next?.body, undefined);
      assert.equal(next?.headers["content-type"], undefined);
      assert.equal(next?.headers.x, "y");
    }
    assert.equal(nextHop(hop({ method: "PUT", body: "d" }), 303, "/n")?.method, "GET");
    assert.equal(nextHop(hop({ method: "HEAD" }), 303, "/n")?.method, "HEAD");
    const kept = nextHop(hop({ method: "PUT", body: "d" }), 302, "/n");
    assert.equal(kept?.method, "PUT");
    assert.equal(kept?.body, "d");
    for (const status of [307, 308]) {
      const same = nextHop(post, status, "/n");
      assert.equal(same?.method, "POST");
      assert.equal(same?.body, "data");
    }
  });

  it("drops credentials on the way to another origin, keeps them on the same one", () => {
    const away = nextHop(hop(), 302, "https://a.test/secure");
    assert.equal(away?.headers.authorization, undefined);
    assert.equal(away?.headers.cookie, undefined);
    assert.equal(away?.headers.x, "y");
    const home = nextHop(hop(), 302, "/again");
    assert.equal(home?.headers.authorization, "Bearer x");
  });
});

class Entry extends DeadlineEntry {
  constructor(
    readonly name: string,
    readonly log: string[],
  ) {
    super();
  }
  expire(): void {
    this.log.push(`${this.name}@${now()}`);
  }
}

describe("Deadlines", () => {
  it("expires entries at their deadlines, in order, out-of-order adds included", async () => {
    await withVirtualClock(async (clock) => {
      const deadlines = new Deadlines();
      const log: string[] = [];
      deadlines.add(new Entry("b", log), 200);
      deadlines.add(new Entry("c", log), 300);
      deadlines.add(new Entry("a", log), 100);
      deadlines.add(new Entry("b2", log), 200);
      await clock.advance(150);
      assert.deepEqual(log, ["a@100"]);
      await clock.advance(1_000);
      assert.deepEqual(log, ["a@100", "b@200", "b2@200", "c@300"]);
      assert.equal(clock.pendingTimers, 0);
    });
  });

  it("never expires a removed entry, and holds no timer once empty", async () => {
    await withVirtualClock(async (clock) => {
      const deadlines = new Deadlines();
      const log: string[] = [];
      const first = new Entry("first", log);
      const second = new Entry("second", log);
      deadlines.add(first, 100);
      deadlines.add(second, 200);
      deadlines.remove(first); // the armed timer's entry leaves: it re-arms for the next
      deadlines.remove(first); // twice is harmless
      await clock.advance(150);
      assert.deepEqual(log, []);
      deadlines.remove(second);
      assert.equal(clock.pendingTimers, 0, "an empty list must not keep the process alive");
      await clock.advance(1_000);
      assert.deepEqual(log, []);
    });
  });

  it("lets an entry re-add itself or others while expiring", async () => {
    await withVirtualClock(async (clock) => {
      const deadlines = new Deadlines();
      const log: string[] = [];
      const later = new Entry("later", log);
      const chain = new (class extends Entry {
        override expire(): void {
          super.expire();
          deadlines.add(later, now() + 50);
        }
      })("chain", log);
      deadlines.add(chain, 100);
      await clock.advance(200);
      assert.deepEqual(log, ["chain@100", "later@150"]);
      assert.equal(clock.pendingTimers, 0);
    });
  });
});

/** A dispatcher whose every step the test drives by hand. */
class ScriptedDispatcher {
  handler: Dispatcher.DispatchHandler | undefined;
  aborted: unknown;
  readonly controller = {
    aborted: false,
    paused: false,
    reason: null,
    abort: (reason: Error) => {
      this.aborted = reason;
      this.handler?.onResponseError?.(this.controller as never, reason);
    },
    pause() {},
    resume() {},
  };

  dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.handler = handler;
    return true;
  }

  start(): void {
    this.handler?.onRequestStart?.(this.controller as never, undefined);
  }

  respond(status: number, chunks: readonly string[]): void {
    const c = this.controller as never;
    this.handler?.onResponseStart?.(c, status, { "content-type": "text/plain" }, "");
    for (const chunk of chunks) this.handler?.onResponseData?.(c, Buffer.from(chunk));
    this.handler?.onResponseEnd?.(c, {});
  }
}

const request: Dispatcher.DispatchOptions = { origin: "http://a.test", path: "/", method: "GET" };

/** One exchange on `dispatcher`: 10 s to go, a signal nobody aborts, nothing kept, unless `over` says. */
function send(dispatcher: ScriptedDispatcher, over: Partial<ExchangeOptions> = {}) {
  return exchange(dispatcher as never, request, {
    deadline: now() + 10_000,
    timeout: 10_000,
    signal: new AbortController().signal,
    keep: 0,
    ...over,
  });
}

describe("exchange", () => {
  it("reads the response: status, headers, bytes, and the first `keep` bytes", async () => {
    const dispatcher = new ScriptedDispatcher();
    const pending = send(dispatcher, { keep: 4 });
    dispatcher.start();
    dispatcher.respond(200, ["ab", "cde", "f"]);
    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "text/plain");
    assert.equal(response.bytes, 6);
    assert.equal(Buffer.concat(response.chunks).toString(), "abcd");
    assert.equal(response.keptBytes, 4);
  });

  it("an abort before undici starts the request aborts it at the start, with the signal's reason", async () => {
    const dispatcher = new ScriptedDispatcher();
    const controller = new AbortController();
    const pending = send(dispatcher, { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    let settled = false;
    void pending
      .catch(() => undefined)
      .finally(() => {
        settled = true;
      });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, "it waits for undici to be done with the request");
    dispatcher.start();
    assert.equal(dispatcher.aborted, reason);
    await assert.rejects(pending, (error) => error === reason);
  });

  it("times out at the deadline through undici's controller, as a TimeoutError", async () => {
    await withVirtualClock(async (clock) => {
      const dispatcher = new ScriptedDispatcher();
      const pending = send(dispatcher, { deadline: now() + 500, timeout: 500 });
      const checked = assert.rejects(pending, (error) => {
        assert.ok(error instanceof TimeoutError);
        assert.equal(error.ms, 500);
        return true;
      });
      dispatcher.start();
      await clock.advance(500);
      assert.ok(dispatcher.aborted instanceof TimeoutError);
      await checked;
      assert.equal(clock.pendingTimers, 0);
    });
  });

  it("rejects at once for a deadline already passed or a signal already aborted", async () => {
    const dispatcher = new ScriptedDispatcher();
    await assert.rejects(send(dispatcher, { deadline: now() - 1, timeout: 5 }), TimeoutError);
    const reason = new Error("gone");
    await assert.rejects(
      send(dispatcher, { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(dispatcher.handler, undefined, "nothing was dispatched");
  });
});

describe("RequestSource", () => {
  it("hands out the input's requests in order, skipping lines a resumed run has done", async () => {
    const done = new LineSet();
    done.add(2);
    const counts = { skipped: 0, linesRead: 0 };
    const input = new PassThrough();
    input.end("http://a.test/1\nhttp://a.test/2\nnot a url\nhttp://a.test/4\n\n");
    const source = new RequestSource(input, done, new AbortController().signal, counts);
    const lines: [number, string][] = [];
    for await (const item of source) lines.push([item.line, item.kind]);
    assert.deepEqual(lines, [
      [1, "request"],
      [3, "bad"],
      [4, "request"],
    ]);
    assert.equal(counts.skipped, 1);
    assert.equal(counts.linesRead, 4);
  });

  it("ends at the first Ctrl-C, even while waiting on silent input", async () => {
    const input = new PassThrough(); // a pipe nobody writes to any more
    input.write("http://a.test/1\n");
    const drain = new AbortController();
    const source = new RequestSource(input, undefined, drain.signal, { skipped: 0, linesRead: 0 });
    assert.equal((await source.next()).done, false);
    const waiting = source.next();
    drain.abort();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    assert.deepEqual(await source.next(), { done: true, value: undefined });
    input.destroy();
  });

  it("fails with the input's error", async () => {
    const input = new PassThrough();
    const source = new RequestSource(input, undefined, new AbortController().signal, {
      skipped: 0,
      linesRead: 0,
    });
    const pending = source.next();
    input.destroy(new Error("EIO: read failed"));
    await assert.rejects(pending, /EIO/);
  });
});
