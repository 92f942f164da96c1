/**
 * The pool with a real resource: TCP connections to a local echo server
 * (Node-only test; the pool itself is core code with no `node:` imports).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { Pool, PoolClosedError } from "../../src/index.js";

/** An echo server that counts the connections it has open, and waits for a count on demand. */
class EchoServer {
  readonly server: Server;
  readonly sockets = new Set<Socket>();
  accepted = 0;
  peak = 0;
  #watchers: (() => void)[] = [];

  constructor() {
    this.server = createServer((socket) => {
      this.accepted++;
      this.sockets.add(socket);
      this.peak = Math.max(this.peak, this.sockets.size);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.sockets.delete(socket);
        for (const watcher of this.#watchers.splice(0)) watcher();
      });
      socket.pipe(socket);
    });
  }

  get port(): number {
    const address = this.server.address();
    assert.ok(address !== null && typeof address === "object");
    return address.port;
  }

  /** Resolves once the server has no connection open. */
  async allClosed(): Promise<void> {
    while (this.sockets.size > 0) {
      await new Promise<void>((resolve) => this.#watchers.push(resolve));
    }
  }
}

function connect(port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = tcpConnect({ port, host: "127.0.0.1", signal });
    socket.setEncoding("utf8");
    const onError = (error: Error): void => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      socket.on("error", () => {}); // a broken connection is found by validate
      resolve(socket);
    });
  });
}

async function close(socket: Socket): Promise<void> {
  if (socket.closed) return;
  const closed = once(socket, "close");
  socket.end();
  await closed;
}

/** Sends one line and resolves with the line echoed back. */
async function request(socket: Socket, line: string): Promise<string> {
  let buffer = "";
  const reply = new Promise<string>((resolve, reject) => {
    const onData = (chunk: string): void => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end === -1) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve(buffer.slice(0, end));
    };
    const onClose = (): void => {
      socket.off("data", onData);
      reject(new Error("Connection closed before the reply"));
    };
    socket.on("data", onData);
    socket.once("close", onClose);
  });
  socket.write(`${line}\n`);
  return reply;
}

function tcpPool(port: () => number, max: number) {
  return new Pool<Socket>({
    create: (signal) => connect(port(), signal),
    destroy: close,
    validate: (socket) => !socket.destroyed && socket.readyState === "open",
    max,
  });
}

describe("Pool of TCP connections to a local echo server", () => {
  const echo = new EchoServer();

  before(async () => {
    echo.server.listen(0, "127.0.0.1");
    await once(echo.server, "listening");
  });

  after(async () => {
    echo.server.close();
    await once(echo.server, "close");
  });

  it("serves 60 concurrent requests over at most 3 connections, then closes them all", async () => {
    echo.peak = 0;
    const acceptedBefore = echo.accepted;
    const pool = tcpPool(() => echo.port, 3);
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => pool.use((socket) => request(socket, `hello ${i}`))),
    );
    assert.deepEqual(
      replies,
      Array.from({ length: 60 }, (_, i) => `hello ${i}`),
    );
    assert.equal(echo.peak, 3);
    assert.equal(echo.accepted - acceptedBefore, 3, "connections are reused");
    assert.equal(pool.stats.created, 3);
    await pool.close();
    assert.equal(pool.stats.destroyed, 3);
    await echo.allClosed();
  });

  it("replaces a connection the server dropped, found broken by validate", async () => {
    const pool = tcpPool(() => echo.port, 1);
    const first = await pool.acquire();
    const firstSocket = first.value;
    assert.equal(await request(firstSocket, "one"), "one");
    await first.release();
    // The server drops every connection; the idle one is now dead.
    const dropped = once(firstSocket, "close");
    for (const socket of echo.sockets) socket.destroy();
    await dropped;
    const second = await pool.acquire();
    assert.notEqual(second.value, firstSocket);
    assert.equal(await request(second.value, "two"), "two");
    await second.release();
    assert.deepEqual(
      { created: pool.stats.created, destroyed: pool.stats.destroyed },
      { created: 2, destroyed: 1 },
    );
    await pool.close();
    await echo.allClosed();
  });

  it("gives a refused connection's error to the acquirer and stays usable", async () => {
    const closedServer = createServer();
    closedServer.listen(0, "127.0.0.1");
    await once(closedServer, "listening");
    const address = closedServer.address();
    assert.ok(address !== null && typeof address === "object");
    const deadPort = address.port;
    closedServer.close();
    await once(closedServer, "close");

    let port = deadPort;
    const pool = tcpPool(() => port, 2);
    await assert.rejects(pool.acquire(), { code: "ECONNREFUSED" });
    assert.equal(pool.stats.size, 0);
    port = echo.port;
    assert.equal(await pool.use((socket) => request(socket, "back")), "back");
    await pool.close();
    await echo.allClosed();
  });

  it("aborts a connection attempt with the acquirer's signal", async () => {
    const pool = tcpPool(() => echo.port, 1);
    const controller = new AbortController();
    const acquiring = pool.acquire({ signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await assert.rejects(acquiring, { message: "user gave up" });
    await pool.close();
    assert.equal(pool.stats.created, pool.stats.destroyed);
    await echo.allClosed();
  });

  it("closes with leases out: waiters fail, each connection closes as it comes back", async () => {
    const pool = tcpPool(() => echo.port, 1);
    const lease = await pool.acquire();
    const waiter = pool.acquire();
    const closing = pool.close();
    await assert.rejects(waiter, PoolClosedError);
    assert.equal(await request(lease.value, "still works"), "still works");
    await lease.release();
    await closing;
    assert.equal(lease.released, true);
    await echo.allClosed();
  });
});
