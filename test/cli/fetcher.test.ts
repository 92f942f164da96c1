/**
 * The engine of `aiokit fetch` in-process, against a real local server:
 * redirects, time limits, body limits, Retry-After, per-host limits,
 * cancellation and a failing output. (The CLI end to end, with real signals,
 * is in fetch.e2e.test.ts.)
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Fetcher } from "../../src/cli/fetch/fetcher.js";
import { parseFetchArgs } from "../../src/cli/fetch/options.js";
import type { ResultRecord } from "../../src/cli/fetch/output.js";
import { now } from "../../src/index.js";
import { withVirtualClock } from "../../src/testing/index.js";
import { MemoryDispatcher } from "../fixtures/memory-dispatcher.js";

let port = 0;
const seen: { method: string; path: string; host: string; auth: string | undefined }[] = [];
const inFlightByHost = new Map<string, number>();
const maxInFlightByHost = new Map<string, number>();
let onArrive: (() => void) | undefined;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://x");
  const host = req.headers.host ?? "";
  seen.push({
    method: req.method ?? "",
    path: url.pathname,
    host,
    auth: req.headers.authorization,
  });
  const now = (inFlightByHost.get(host) ?? 0) + 1;
  inFlightByHost.set(host, now);
  maxInFlightByHost.set(host, Math.max(maxInFlightByHost.get(host) ?? 0, now));
  res.on("close", () => inFlightByHost.set(host, (inFlightByHost.get(host) ?? 1) - 1));
  const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
  if (hops !== null) {
    const n = Number(hops[1]);
    if (n === 0) res.writeHead(200).end(`arrived by ${req.method}`);
    else
      res
        .writeHead(Number(url.searchParams.get("code") ?? 302), { location: `/hops/${n - 1}` })
        .end("moved");
  } else if (url.pathname === "/elsewhere") {
    // Same server under another origin (localhost vs 127.0.0.1): credentials must not follow.
    res.writeHead(302, { location: `http://localhost:${port}/hops/0` }).end();
  } else if (url.pathname === "/hang") {
    // Never answers; the request ends when the client gives up.
  } else if (url.pathname === "/big") {
    res.writeHead(200).end("0123456789".repeat(2));
  } else if (url.pathname === "/busy") {
    res.writeHead(503, { "retry-after": "3600" }).end("come back in an hour");
  } else if (url.pathname.startsWith("/slow/")) {
    setTimeout(() => res.writeHead(200).end("slow"), 20);
  } else {
    res.writeHead(200, { "content-type": "text/plain" }).end(`body of ${url.pathname}`);
  }
  onArrive?.();
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Ran {
  readonly records: ResultRecord[];
  readonly fetcher: Fetcher;
}

async function fetchAll(
  lines: readonly string[],
  args: readonly string[] = [],
  run: { drain?: AbortSignal; abort?: AbortSignal; output?: string } = {},
): Promise<Ran> {
  const output = run.output ?? join(await mkdtemp(join(tmpdir(), "aiokit-fetcher-")), "out.ndjson");
  const options = parseFetchArgs(["-", "-o", output, "-q", ...args]);
  if (options === "help") throw new Error("unreachable");
  const fetcher = new Fetcher(options);
  const never = new AbortController().signal;
  await fetcher.run({
    input: Readable.from([lines.join("\n")]),
    drain: run.drain ?? never,
    abort: run.abort ?? never,
  });
  const text = await readFile(output, "utf8");
  const records = text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ResultRecord)
    .sort((a, b) => a.line - b.line);
  return { records, fetcher };
}

const at = (path: string, host = "127.0.0.1"): string => `http://${host}:${port}${path}`;

describe("Fetcher: redirects", () => {
  it("follows a chain to its end and records the hops and where they led", async () => {
    const { records } = await fetchAll([at("/hops/3")]);
    const [record] = records;
    assert.equal(record?.status, 200);
    assert.equal(record?.body, "arrived by GET");
    assert.equal(record?.redirects, 3);
    assert.equal(record?.finalUrl, at("/hops/0"));
    assert.equal(record?.url, at("/hops/3"), "url stays the input's, for --resume");
  });

  it("stops at --max-redirects and records the redirect itself", async () => {
    const { records } = await fetchAll([at("/hops/3")], ["--max-redirects", "2"]);
    const [record] = records;
    assert.equal(record?.status, 302);
    assert.equal(record?.redirects, 2);
    assert.equal(record?.headers?.location, "/hops/0");
  });

  it("does not follow with --max-redirects 0", async () => {
    const { records } = await fetchAll([at("/hops/1")], ["--max-redirects", "0"]);
    assert.equal(records[0]?.status, 302);
    assert.equal(records[0]?.redirects, undefined);
  });

  it("turns a POST into a GET on 303, and keeps it on 307", async () => {
    const post = (code: number) =>
      JSON.stringify({ url: at(`/hops/1?code=${code}`), method: "POST", body: "x" });
    const { records } = await fetchAll([post(303), post(307)]);
    assert.equal(records[0]?.body, "arrived by GET");
    assert.equal(records[0]?.method, "GET");
    assert.equal(records[1]?.body, "arrived by POST");
  });

  it("sends no Authorization header to another origin", async () => {
    seen.length = 0;
    await fetchAll([at("/elsewhere")], ["-H", "Authorization: Bearer secret"]);
    assert.deepEqual(
      seen.map((s) => [s.host.split(":")[0], s.auth]),
      [
        ["127.0.0.1", "Bearer secret"],
        ["localhost", undefined],
      ],
    );
  });
});

describe("Fetcher: limits", () => {
  it("records a timeout when the server never answers, after each attempt", async () => {
    const { records } = await fetchAll([at("/hang")], ["--timeout", "50", "--retries", "1"]);
    assert.equal(records[0]?.error, "timeout after 50 ms");
    assert.equal(records[0]?.attempts, 2);
  });

  it("keeps --max-body bytes of the body, counts all of them and marks the cut", async () => {
    const { records } = await fetchAll([at("/big")], ["--max-body", "5"]);
    assert.equal(records[0]?.body, "01234");
    assert.equal(records[0]?.bytes, 20);
    assert.equal(records[0]?.truncated, true);
  });

  it("honours Retry-After even when the header is not kept in the record", async () => {
    // An hour is past the longest wait (30 s): one attempt, then the 503 is the result.
    const { records } = await fetchAll([at("/busy")], ["--keep-header", "content-type"]);
    assert.equal(records[0]?.status, 503);
    assert.equal(records[0]?.attempts, 1);
    assert.deepEqual(records[0]?.headers, {});
  });

  it("never has more than --per-host requests in flight for one host", async () => {
    maxInFlightByHost.clear();
    const lines = Array.from({ length: 40 }, (_, i) =>
      at(`/slow/${i}`, i % 2 === 0 ? "127.0.0.1" : "localhost"),
    );
    const { records } = await fetchAll(lines, ["-c", "8", "--per-host", "2"]);
    assert.equal(records.length, 40);
    assert.ok(records.every((r) => r.status === 200));
    for (const [host, max] of maxInFlightByHost) assert.ok(max <= 2, `${host}: ${max} at once`);
    assert.equal(maxInFlightByHost.size, 2);
  });
});

describe("Fetcher: rate limit", () => {
  it("starts at most --rate requests a second (on the virtual clock)", async () => {
    await withVirtualClock(
      async () => {
        const starts: number[] = [];
        const dispatcher = new MemoryDispatcher();
        const dispatch = dispatcher.dispatch.bind(dispatcher);
        dispatcher.dispatch = (options, handler) => {
          starts.push(now());
          return dispatch(options, handler);
        };
        const options = parseFetchArgs(["-", "-o", "/dev/null", "-q", "--rate", "5/s"]);
        if (options === "help") throw new Error("unreachable");
        const fetcher = new Fetcher(options, dispatcher as never);
        const never = new AbortController().signal;
        const lines = Array.from({ length: 12 }, (_, i) => `http://a.test/${i}`).join("\n");
        await fetcher.run({ input: Readable.from([lines]), drain: never, abort: never });
        assert.equal(fetcher.stats.ok, 12);
        assert.deepEqual(
          starts.map((t) => Math.floor(t / 1_000)),
          [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2],
        );
      },
      { autoAdvance: true },
    );
  });
});

describe("Fetcher: cancellation and failure", () => {
  it("records the requests in flight as cancelled when `abort` fires", async () => {
    const abort = new AbortController();
    seen.length = 0;
    onArrive = () => {
      if (seen.length === 3) abort.abort(new Error("second Ctrl-C"));
    };
    try {
      const { records } = await fetchAll([at("/hang"), at("/hang"), at("/hang")], ["-c", "3"], {
        abort: abort.signal,
      });
      assert.equal(records.length, 3);
      assert.ok(
        records.every((r) => r.error === "cancelled" && r.attempts === 1),
        JSON.stringify(records),
      );
    } finally {
      onArrive = undefined;
    }
  });

  it("a failing output ends the run with its error at once, not at the time limit", async () => {
    const started = performance.now();
    await assert.rejects(
      fetchAll([at("/hang"), at("/hang")], ["--timeout", "60000"], {
        output: join(tmpdir(), "no-such-dir-aiokit", "out.ndjson"),
      }),
      /ENOENT/,
    );
    assert.ok(performance.now() - started < 30_000, "the requests in flight were cancelled");
  });
});
