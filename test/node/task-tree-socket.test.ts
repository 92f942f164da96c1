/** The task-tree socket (`aiokit ps`): idle connections, stale and live sockets at its path (issue 13). */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { dirname } from "node:path";
import { afterEach, describe, it } from "node:test";
import {
  requestTaskTree,
  serveTaskTree,
  type TaskTreeServer,
  taskTreeSocketPath,
} from "../../src/node/index.js";
import { startFixture } from "./child-process.js";

const path = taskTreeSocketPath(process.pid);

/** Connects to `path`; resolves once connected, with a promise of everything it receives until closed. */
function connect(): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    const closed = new Promise<string>((done) => socket.on("close", () => done(received)));
    socket.once("error", reject);
    socket.once("connect", () => resolve({ socket, closed }));
  });
}

/** Starts a process listening on this process's socket path; resolves once it listens. */
async function startHolder(t: { after(fn: () => void): void }) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const holder = startFixture("socket-holder.mjs", [path]);
  t.after(() => holder.process.kill("SIGKILL"));
  await holder.line("stdout", /^ready$/);
  return holder;
}

// A test that waits for an event that never comes fails by this timeout.
const timeout = 15_000;

describe("serveTaskTree's socket", () => {
  let server: TaskTreeServer | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it("closes connections that stay silent, and keeps answering meanwhile (issue 13)", {
    timeout,
  }, async () => {
    server = serveTaskTree({ idleTimeout: 100 });
    assert.equal(await server.listening, true);
    const idle = await Promise.all(Array.from({ length: 200 }, () => connect()));
    // One that sent half a request is idle too.
    const partial = await connect();
    partial.socket.write("tas");
    const snapshot = await requestTaskTree(process.pid, { timeout: 10_000 });
    assert.equal(snapshot.pid, process.pid);
    // The server closes every one of them, without an answer (fails by timeout when it never does).
    const received = await Promise.all([...idle, partial].map((c) => c.closed));
    assert.deepEqual(new Set(received), new Set([""]));
    const again = await requestTaskTree(process.pid, { timeout: 10_000 });
    assert.equal(again.pid, process.pid);
  });

  it("replaces a stale socket that a dead process left at its path", { timeout }, async (t) => {
    const holder = await startHolder(t);
    holder.process.kill("SIGKILL");
    await holder.exit;
    assert.ok(existsSync(path), "SIGKILL leaves the socket file behind");
    server = serveTaskTree();
    assert.equal(await server.listening, true);
    const snapshot = await requestTaskTree(process.pid);
    assert.equal(snapshot.pid, process.pid);
    server.close();
    assert.equal(existsSync(path), false);
  });

  it("leaves a socket that a live process serves alone, and warns clearly (issue 13)", {
    timeout,
  }, async (t) => {
    await startHolder(t);
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    server = serveTaskTree();
    // The live process still gets the connections made to its socket.
    const client = await connect();
    client.socket.end();
    assert.equal(await client.closed, '{"holder":true}\n');
    assert.equal(await server.listening, false);
    assert.match(
      (await warned).message,
      /^aiokit: cannot serve the task tree on .*\.sock: a live process already serves its task tree there/,
    );
    // Closing this process's server does not remove the other process's socket.
    server.close();
    assert.ok(existsSync(path));
    const after = await connect();
    assert.equal(await after.closed, '{"holder":true}\n');
  });
});
