/** A small HTTP server for the fetch benchmark, in its own process: prints its port, serves "ok". */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }).end("ok");
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log((server.address() as AddressInfo).port);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
