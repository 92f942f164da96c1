/**
 * A small scraper: fetch 40 pages from a local HTTP server (started here, so
 * the example needs no network), at most 8 at a time, at most 4 per host,
 * at most 100 requests a second, retrying 503s with backoff, with a progress
 * count. The README's "scraper in 20 lines", made runnable.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { keyedLimiter, map, retry } from "aiokit";

// A local server: every fifth page answers 503 on its first request.
const seen = new Set<string>();
const server = createServer((req, res) => {
  const first = !seen.has(req.url ?? "");
  seen.add(req.url ?? "");
  const n = Number(req.url?.split("/").pop());
  setTimeout(() => {
    if (first && n % 5 === 0) res.writeHead(503, { "retry-after": "0" }).end();
    else res.end(`<title>Page ${n}</title>`);
  }, 5);
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// --- the scraper ---
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}`);
  }
}
const urls = Array.from({ length: 40 }, (_, i) => `${base}/page/${i + 1}`);
const perHost = keyedLimiter<string>({ perKey: 4 });
let done = 0;
const progress = (): void => {
  const bar = "#".repeat(Math.round((20 * ++done) / urls.length)).padEnd(20, ".");
  if (process.stdout.isTTY) process.stdout.write(`\r[${bar}] ${done}/${urls.length}`);
  else if (done % 10 === 0) console.log(`[${bar}] ${done}/${urls.length}`);
};
const titles = await map(
  urls,
  (url, _i, signal) =>
    perHost(
      new URL(url).host,
      () =>
        retry(
          async (_attempt, s) => {
            const res = await fetch(url, { signal: s });
            if (!res.ok) throw new HttpError(res.status, res.headers); // retry honours Retry-After
            return /<title>(.*?)<\/title>/.exec(await res.text())?.[1] ?? "";
          },
          { retries: 3, minDelay: 10, signal },
        ).finally(progress),
      { signal },
    ),
  { concurrency: 8, rate: { limit: 100, interval: 1_000 } },
);
if (process.stdout.isTTY) process.stdout.write("\n");
console.log(`first: ${titles[0]}, last: ${titles.at(-1)}`);
// --- end of the scraper ---

server.close();
if (titles.length !== 40 || titles[4] !== "Page 5")
  throw new Error("pages were lost or out of order");
