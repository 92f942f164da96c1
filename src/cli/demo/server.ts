/**
 * The demo's own HTTP server on 127.0.0.1 (random port): answers after a
 * simulated latency and counts its connections, so the demo can show that a
 * pool closed every connection it opened.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface DemoServer {
  readonly url: string;
  /** Connections open right now. */
  readonly openConnections: number;
  /** Connections accepted since start. */
  readonly totalConnections: number;
  /** Requests answered since start. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Starts the server. `GET /item/N?delay=MS` answers `{"id":N}` after MS ms
 * (default `latency`); `GET /fail` answers 500.
 */
export async function startDemoServer(latency = 20): Promise<DemoServer> {
  const sockets = new Set<Socket>();
  let total = 0;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const delay = Number(url.searchParams.get("delay") ?? latency);
    const timer = setTimeout(() => {
      requests++;
      if (url.pathname === "/fail") {
        res.writeHead(500, { "content-type": "text/plain" }).end("simulated failure");
        return;
      }
      const id = url.pathname.split("/").at(-1) ?? "";
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    }, delay);
    res.on("close", () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket: Socket) => {
    total++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get openConnections() {
      return sockets.size;
    },
    get totalConnections() {
      return total;
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
