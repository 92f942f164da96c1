import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { Histogram } from "../../src/cli/fetch/histogram.js";
import { lines, parseLine, readRequests } from "../../src/cli/fetch/input.js";
import { parseFetchArgs, parseRate } from "../../src/cli/fetch/options.js";
import { LineSet, NdjsonWriter, repairAndScan } from "../../src/cli/fetch/output.js";
import { formatProgress } from "../../src/cli/fetch/progress.js";
import { parseRetryAfter } from "../../src/cli/fetch/requester.js";
import type { Style } from "../../src/cli/style.js";
import { UsageError } from "../../src/cli/usage.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("fetch input", () => {
  it("splits lines across chunk boundaries, LF and CRLF, with or without a final newline", async () => {
    const chunks = ["http://a/1\r", "\nhttp://b", "/2\n\nhttp://c/3"];
    assert.deepEqual(await collect(lines(Readable.from(chunks))), [
      "http://a/1",
      "http://b/2",
      "",
      "http://c/3",
    ]);
  });

  it("decodes UTF-8 split across chunks", async () => {
    const bytes = Buffer.from("http://x/é\n");
    const parts = [bytes.subarray(0, 10), bytes.subarray(10)];
    assert.deepEqual(await collect(lines(Readable.from(parts))), ["http://x/é"]);
  });

  it("reads plain URLs and NDJSON objects, numbering lines, skipping blanks and comments", async () => {
    const input = [
      "# a comment",
      "http://example.test/a",
      "",
      '{"url":"http://example.test/b","method":"post","headers":{"x":"1"},"body":"hi"}',
    ].join("\n");
    const items = await collect(readRequests(Readable.from([input])));
    assert.equal(items.length, 2);
    const [a, b] = items;
    assert.equal(a?.kind === "request" && a.url.href, "http://example.test/a");
    assert.equal(a?.line, 2);
    assert.ok(b?.kind === "request");
    assert.equal(b.line, 4);
    assert.equal(b.method, "POST");
    assert.deepEqual(b.headers, { x: "1" });
    assert.equal(b.body, "hi");
  });

  it("turns a malformed line into a BadLine with its line number and the reason", () => {
    const cases: [string, RegExp][] = [
      ["not a url", /Invalid URL/],
      ["ftp://example.test/x", /Unsupported protocol ftp:/],
      ["{broken json", /Invalid JSON/],
      ['{"nourl":1}', /"url" to be a string/],
      ['{"url":"http://a/","headers":{"x":1}}', /headers/],
      ["[1,2]", /Invalid URL/],
    ];
    for (const [text, reason] of cases) {
      const parsed = parseLine(text, 7);
      assert.ok(parsed?.kind === "bad", text);
      assert.equal(parsed.line, 7);
      assert.match(parsed.error, reason);
    }
  });
});

describe("fetch output and --resume", () => {
  it("LineSet remembers line numbers in one bit each, and grows", () => {
    const set = new LineSet();
    for (const n of [1, 7, 8, 100_000, 10_000_000]) set.add(n);
    set.add(7);
    assert.equal(set.size, 5);
    assert.ok(set.has(10_000_000) && set.has(8) && !set.has(9) && !set.has(20_000_000));
  });

  it("collects done lines (not cancelled ones) and cuts a partial last line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiokit-resume-"));
    const path = join(dir, "out.ndjson");
    const good = [
      { line: 1, url: "http://a/", status: 200 },
      { line: 2, url: "http://a/", error: "cancelled" },
      { line: 3, url: "http://a/", error: "timeout after 10 ms" },
    ]
      .map((r) => `${JSON.stringify(r)}\n`)
      .join("");
    await writeFile(path, `${good}{"line":4,"url":"http://a/","sta`);
    const state = await repairAndScan(path);
    assert.equal(state.records, 3);
    assert.ok(state.done.has(1) && !state.done.has(2) && state.done.has(3) && !state.done.has(4));
    assert.equal(state.repairedBytes, '{"line":4,"url":"http://a/","sta'.length);
    assert.equal(await readFile(path, "utf8"), good);
  });

  it("leaves a clean file alone and treats a missing one as empty", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiokit-resume-"));
    const path = join(dir, "out.ndjson");
    assert.equal((await repairAndScan(path)).records, 0);
    await writeFile(path, '{"line":1,"url":"u","status":200}\n');
    const state = await repairAndScan(path);
    assert.equal(state.repairedBytes, 0);
    assert.equal(state.records, 1);
  });

  it("refuses to cut a corrupt line in the middle of the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiokit-resume-"));
    const path = join(dir, "out.ndjson");
    await writeFile(path, '{"line":1,"url":"u"}\ngarbage\n{"line":3,"url":"u"}\n');
    await assert.rejects(repairAndScan(path), /invalid line 2 in the middle/);
  });
});

describe("fetch options", () => {
  it("parses the options with defaults", () => {
    const options = parseFetchArgs([
      "urls.txt",
      "-c",
      "10",
      "--per-host",
      "2",
      "--rate",
      "5/s",
      "-H",
      "X-A: b",
    ]);
    assert.ok(options !== "help");
    assert.equal(options.input, "urls.txt");
    assert.equal(options.concurrency, 10);
    assert.equal(options.perHost, 2);
    assert.equal(options.rate, 5);
    assert.deepEqual(options.headers, { "x-a": "b" });
    assert.equal(options.retries, 2);
    assert.equal(options.timeout, 30_000);
  });

  it("rejects bad options with a UsageError that names the option and the value", () => {
    assert.throws(
      () => parseFetchArgs(["-c", "0"]),
      (e) => e instanceof UsageError && /--concurrency.*"0"/.test(e.message),
    );
    assert.throws(() => parseFetchArgs(["--rate", "fast"]), /--rate like 200\/s/);
    assert.throws(() => parseFetchArgs(["--resume"]), /--resume needs --output/);
    assert.throws(() => parseFetchArgs(["--nope"]), UsageError);
    assert.throws(() => parseFetchArgs(["-H", "novalue"]), /Name: value/);
  });

  it("reads rates per second, minute and hour", () => {
    assert.equal(parseRate("200/s"), 200);
    assert.equal(parseRate("60/m"), 1);
    assert.equal(parseRate("3600/h"), 1);
    assert.equal(parseRate("2.5"), 2.5);
  });
});

describe("fetch helpers", () => {
  it("Retry-After in seconds or as an HTTP date", () => {
    assert.equal(parseRetryAfter("3"), 3_000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it("Histogram percentiles stay within about 2% of the exact value", () => {
    const h = new Histogram();
    const values = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 10);
    for (const v of values) h.record(v);
    for (const p of [50, 95, 99]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1] as number;
      const got = h.percentile(p);
      assert.ok(Math.abs(got - exact) / exact < 0.02, `p${p}: ${got} vs ${exact}`);
    }
    assert.equal(new Histogram().percentile(50), 0);
  });
});

describe("NdjsonWriter under backpressure", () => {
  it("many concurrent writers share one drain wait, and every record lands in order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aiokit-writer-"));
    const path = join(dir, "out.ndjson");
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on("warning", onWarning);
    const writer = NdjsonWriter.open(path);
    const big = "x".repeat(20_000); // fills the stream's 16 KiB buffer at once
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => writer.write({ line: i + 1, url: big })),
    );
    await writer.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    process.off("warning", onWarning);
    assert.deepEqual(warnings, [], "no listener-leak warnings");
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    assert.equal(lines.length, 200);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { line: number }).line),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });
});

describe("formatProgress with --resume", () => {
  it("counts only requests made in the rate and ETA, not lines skipped as already done", () => {
    const same = (text: string): string => text;
    const plain: Style = {
      red: same,
      green: same,
      yellow: same,
      dim: same,
      bold: same,
      cyan: same,
    };
    // 900 skipped + 100 made in 10 s: 10/s, and the 1000 left take 100 s.
    const line = formatProgress(
      { done: 1000, failed: 0, inFlight: 0, skipped: 900, total: 2000 },
      10_000,
      100,
      plain,
    );
    assert.match(line, / 10\/s · ETA 01:40/);
  });
});
