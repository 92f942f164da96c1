/**
 * The server of bench/suites/monitor.ts: a node:http server whose handler runs
 * each request as an aiokit task (so task tracking has work to do). With
 * `monitor`, it watches its event loop; run it with `--import` of
 * aiokit/node/register for the whole debug mode. Prints its port, then serves
 * until stdin closes, then prints its peak memory as JSON and exits.
 */
import { createServer } from "node:http";
import { TaskGroup } from "../../src/index.js";
import { monitorEventLoop } from "../../src/node/index.js";

const monitor =
  process.argv[2] === "monitor"
    ? monitorEventLoop({ threshold: 100, onBlock: (r) => console.error(r.duration) })
    : undefined;
const group = new TaskGroup({ name: "http" });
const body = JSON.stringify({ hello: "world", items: Array.from({ length: 20 }, (_, i) => i) });

const server = createServer((req, res) => {
  group.spawn(
    async () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    },
    { name: req.url ?? "/" },
  );
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address !== null ? address.port : 0);
});
process.stdin.resume();
process.stdin.on("end", async () => {
  server.close();
  await monitor?.stop();
  console.log(JSON.stringify({ peakMb: (process.resourceUsage().maxRSS * 1024) / 1e6 }));
  process.exit(0);
});
