/**
 * Issue 7: `aiokit fetch` against a bare undici loop at the same concurrency,
 * 100,000 requests at concurrency 256 to a local server in another process.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent } from "undici";
import type { BenchSuite } from "../harness.js";

const N = 100_000;
const CONCURRENCY = 256;
const serverScript = fileURLToPath(new URL("../fetch-server.js", import.meta.url));
const cli = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));

async function withServer(work: (base: string) => Promise<void>): Promise<void> {
  const server: ChildProcess = spawn(process.execPath, [serverScript], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  try {
    await work(`http://127.0.0.1:${port}`);
  } finally {
    server.stdin?.end();
  }
}

const suite: BenchSuite = {
  title: `fetch: ${N.toLocaleString("en")} requests, concurrency ${CONCURRENCY}, local server in another process`,
  target: "aiokit fetch within 15% of a bare undici loop (time ratio ≤ 1.15)",
  cases: [
    {
      name: "bare undici loop (256 workers)",
      baseline: true,
      run: () =>
        withServer(async (base) => {
          const agent = new Agent({ connections: CONCURRENCY });
          let next = 0;
          const worker = async (): Promise<void> => {
            while (next < N) {
              const i = next++;
              const url = new URL(`${base}/item/${i}`);
              const res = await agent.request({
                origin: url.origin,
                path: url.pathname,
                method: "GET",
              });
              await res.body.text();
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
          await agent.close();
        }),
    },
    {
      name: "aiokit fetch (CLI, NDJSON to a file)",
      run: () =>
        withServer(async (base) => {
          const dir = mkdtempSync(join(tmpdir(), "aiokit-bench-"));
          const input = join(dir, "urls.txt");
          writeFileSync(input, Array.from({ length: N }, (_, i) => `${base}/item/${i}`).join("\n"));
          execFileSync(process.execPath, [
            cli,
            "fetch",
            input,
            "-c",
            String(CONCURRENCY),
            "-o",
            join(dir, "out.ndjson"),
            "-q",
          ]);
        }),
    },
  ],
};
export default suite;
