/**
 * Reading a running process's task tree from outside (`aiokit ps PID`): the
 * process serves it on a Unix socket (a named pipe on Windows) that only its
 * user can open; {@link requestTaskTree} asks for it.
 *
 * Why a socket rather than a signal: a signal sent to a process that does not
 * handle it kills it (SIGUSR2's default action), SIGUSR1 belongs to Node's
 * inspector, and a signal cannot carry the answer back. Connecting to a
 * socket that is not there fails harmlessly and says so.
 * @module
 */
import { lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectNumber, expectSignal } from "../_internal/describe.js";
import { TimeoutError } from "../errors.js";
import { dumpTasks, isTaskTracking, type TaskTreeNode } from "./task-tree.js";

/** What {@link requestTaskTree} returns: a process's task tree with a few facts about the process. */
export interface TaskTreeSnapshot {
  readonly pid: number;
  /** `process.title`. */
  readonly title: string;
  readonly argv: readonly string[];
  /** `process.version`. */
  readonly node: string;
  readonly uptimeMs: number;
  /** False when the process serves its tree but does not track tasks (the tree is then empty). */
  readonly tracking: boolean;
  readonly tasks: readonly TaskTreeNode[];
}

/** Why a process's task tree could not be read. */
export type TaskTreeUnavailableReason = "no-process" | "not-serving" | "permission" | "bad-answer";

/**
 * {@link requestTaskTree} could not read the tree: no such process, it does
 * not serve its tree (not started with `aiokit/node/register`), it belongs to
 * another user, or it answered something else. `reason` says which.
 *
 * @example
 * ```ts
 * import { requestTaskTree, TaskTreeUnavailableError } from "aiokit/node";
 * try {
 *   await requestTaskTree(pid);
 * } catch (error) {
 *   if (error instanceof TaskTreeUnavailableError && error.reason === "not-serving") {
 *     console.error("start it with: node --import aiokit/node/register app.js");
 *   }
 * }
 * ```
 */
export class TaskTreeUnavailableError extends Error {
  override readonly name = "TaskTreeUnavailableError";
  readonly pid: number;
  readonly reason: TaskTreeUnavailableReason;
  constructor(pid: number, reason: TaskTreeUnavailableReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.pid = pid;
    this.reason = reason;
  }
}

const MAX_REQUEST = 1_024;

/**
 * Where process `pid` serves its task tree:
 * `<os.tmpdir()>/aiokit-<uid>/<pid>.sock` (a directory only its user can
 * open), or `\\?\pipe\aiokit-<pid>` on Windows.
 *
 * @example
 * ```ts
 * import { taskTreeSocketPath } from "aiokit/node";
 * console.log(taskTreeSocketPath(process.pid));
 * ```
 */
export function taskTreeSocketPath(pid: number = process.pid): string {
  if (process.platform === "win32") return `\\\\?\\pipe\\aiokit-${pid}`;
  return join(socketDir(), `${pid}.sock`);
}

function socketDir(): string {
  const uid = process.getuid?.() ?? "user";
  return join(tmpdir(), `aiokit-${uid}`);
}

/** A running task tree server: {@link serveTaskTree}'s result. */
export interface TaskTreeServer {
  readonly path: string;
  /**
   * Resolves with true once the socket accepts connections, or with false
   * when it cannot (a process warning says why: another live process serves
   * at `path`, or the socket cannot be created). Never rejects.
   */
  readonly listening: Promise<boolean>;
  /** Stops serving and removes the socket. Idempotent. */
  close(): void;
}

/** How long a connection may stay silent before the server closes it. */
const IDLE_TIMEOUT = 5_000;

let serving: TaskTreeServer | undefined;

/**
 * Serves this process's task tree to {@link requestTaskTree} (and
 * `aiokit ps`) until `close()` or the process exits. One server per process:
 * calling it again returns the same server. It never keeps the process alive.
 * `aiokit/node/register` calls it; task tracking must be on for the tree to
 * have anything in it.
 *
 * The answer includes the process's command line (`process.argv`), title and
 * Node version: anyone who can open the socket (only this user) can read them.
 * A connection that stays silent for 5 s is closed. A socket left at the same
 * path by a dead process is replaced; one that a live process still serves is
 * left alone (`listening` resolves with false and a warning says so).
 *
 * @example
 * ```ts
 * import { enableTaskTracking, serveTaskTree } from "aiokit/node";
 * enableTaskTracking();
 * const server = serveTaskTree(); // now `aiokit ps <pid>` shows the tree
 * await server.listening;
 * ```
 *
 * @throws Error when the socket directory is not safe (not a directory owned by this user, or open to others).
 */
export function serveTaskTree(
  options: {
    /** @internal Milliseconds a connection may stay silent (tests use a short one). Default 5 000. */
    readonly idleTimeout?: number;
  } = {},
): TaskTreeServer {
  if (serving !== undefined) return serving;
  const path = taskTreeSocketPath();
  const unix = process.platform !== "win32";
  if (unix) prepareDir(socketDir());
  const idleTimeout = options.idleTimeout ?? IDLE_TIMEOUT;
  const server: Server = createServer({ allowHalfOpen: false }, (socket) =>
    serveConnection(socket, idleTimeout),
  );
  server.unref();
  let owned = false; // the socket file at `path` is ours to remove
  let closed = false;
  const removeSocket = (): void => {
    if (!owned) return;
    owned = false;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  let settle: (served: boolean) => void = () => {};
  const listening = new Promise<boolean>((resolve) => {
    settle = resolve;
    const fail = (why: string): void => {
      process.emitWarning(`aiokit: cannot serve the task tree on ${path}: ${why}`);
      resolve(false);
    };
    let retried = false;
    server.on("listening", () => {
      owned = true;
      resolve(true);
    });
    server.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE" || retried) return fail(String(error));
      // A socket file is there: left by a dead process with the same pid
      // (nobody accepts: replace it), or served by a live one (another copy
      // of aiokit in this process, or a process with this pid in another
      // container sharing the directory): leave that one alone.
      retried = true;
      void probe(path).then((state) => {
        if (closed) return resolve(false);
        if (state !== "stale") {
          return fail(
            state === "live"
              ? "a live process already serves its task tree there (another copy of aiokit in this process, or a process with the same pid in another container); aiokit ps will ask that one"
              : `the socket there cannot be checked: ${String(state)}`,
          );
        }
        if (unix) {
          try {
            unlinkSync(path);
          } catch {
            // gone meanwhile
          }
        }
        server.listen(path);
      });
    });
  });
  server.listen(path);
  process.on("exit", removeSocket);
  const handle: TaskTreeServer = {
    path,
    listening,
    close() {
      if (serving !== handle) return;
      serving = undefined;
      closed = true;
      process.off("exit", removeSocket);
      if (server.listening) server.close();
      removeSocket();
      settle(false); // closed before it listened
    },
  };
  serving = handle;
  return handle;
}

/** Answers one request; closes a connection silent for `idleTimeout` ms so idle clients hold no descriptors. */
function serveConnection(socket: Socket, idleTimeout: number): void {
  socket.unref(); // a connected client must not keep the process alive
  socket.setTimeout(idleTimeout, () => socket.destroy());
  socket.setEncoding("utf8");
  let request = "";
  socket.on("data", (chunk: string) => {
    request += chunk;
    if (request.length > MAX_REQUEST) socket.destroy();
    else if (request.includes("\n")) {
      const command = request.slice(0, request.indexOf("\n")).trim();
      socket.end(`${JSON.stringify(answer(command))}\n`);
    }
  });
  socket.on("error", () => socket.destroy());
}

/** Whether a process accepts connections on the socket at `path`: `"stale"` when nobody does. */
function probe(path: string): Promise<"live" | "stale" | Error> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.unref();
    socket.on("connect", () => {
      socket.destroy();
      resolve("live");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code === "ECONNREFUSED" || error.code === "ENOENT" ? "stale" : error);
    });
  });
}

function answer(command: string): TaskTreeSnapshot | { error: string } {
  if (command !== "tasks") return { error: `Unknown request ${JSON.stringify(command)}` };
  return {
    pid: process.pid,
    title: process.title,
    argv: process.argv,
    node: process.version,
    uptimeMs: Math.round(process.uptime() * 1_000),
    tracking: isTaskTracking(),
    tasks: dumpTasks(),
  };
}

function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new Error(
      `Cannot serve the task tree: ${dir} must be a directory that only this user can open`,
    );
  }
}

/** Options of {@link requestTaskTree}. */
export interface RequestTaskTreeOptions {
  /** Milliseconds to wait for the answer. Default 2 000. */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

/**
 * Asks process `pid` for its task tree — what `aiokit ps PID` prints (with
 * {@link formatTaskTree} on `tasks`). The process must run with
 * `aiokit/node/register` (or call {@link serveTaskTree}) and belong to the
 * same user.
 *
 * Rejects with a {@link TaskTreeUnavailableError} saying why when the tree
 * cannot be read, with a `TimeoutError` when the process does not answer in
 * `timeout` ms (its event loop is blocked: the answer comes from its main
 * thread), and with the signal's reason when it aborts.
 *
 * @example
 * ```ts
 * import { formatTaskTree, requestTaskTree } from "aiokit/node";
 * const snapshot = await requestTaskTree(pid, { timeout: 2_000 });
 * console.log(`${snapshot.pid} ${snapshot.argv.join(" ")}`);
 * console.log(formatTaskTree(snapshot.tasks));
 * ```
 */
export async function requestTaskTree(
  pid: number,
  options: RequestTaskTreeOptions = {},
): Promise<TaskTreeSnapshot> {
  expectNumber("`pid`", pid, { min: 1, integer: true });
  const timeout = options.timeout ?? 2_000;
  expectNumber("`timeout`", timeout, { allowInfinity: true });
  expectSignal(options.signal);
  const signal = options.signal;
  signal?.throwIfAborted();
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ESRCH") {
      throw new TaskTreeUnavailableError(pid, "no-process", `No process has the id ${pid}`, error);
    }
    if (code === "EPERM") {
      throw new TaskTreeUnavailableError(
        pid,
        "permission",
        `Cannot read the task tree of process ${pid}: it belongs to another user`,
        error,
      );
    }
    throw error;
  }
  const path = taskTreeSocketPath(pid);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(path);
    let received = "";
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: unknown, value?: string): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error === undefined) resolve(value ?? "");
      else reject(error);
    };
    const onAbort = (): void => finish(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(
        () =>
          finish(
            new TimeoutError(
              timeout,
              `Process ${pid} did not send its task tree within ${timeout} ms: its event loop may be blocked`,
            ),
          ),
        timeout,
      );
    }
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write("tasks\n"));
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("end", () => finish(undefined, received));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        finish(
          new TaskTreeUnavailableError(
            pid,
            "not-serving",
            `Process ${pid} does not serve its task tree: start it with node --import aiokit/node/register (no socket at ${path})`,
            error,
          ),
        );
      } else if (error.code === "EACCES") {
        finish(
          new TaskTreeUnavailableError(
            pid,
            "permission",
            `Cannot read the task tree of process ${pid}: no access to ${path}`,
            error,
          ),
        );
      } else finish(error);
    });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TaskTreeUnavailableError(
      pid,
      "bad-answer",
      `Process ${pid} answered something that is not a task tree: ${JSON.stringify(text.slice(0, 80))}`,
      error,
    );
  }
  const snapshot = parsed as Partial<TaskTreeSnapshot> & { error?: string };
  if (!Array.isArray(snapshot.tasks) || typeof snapshot.pid !== "number") {
    throw new TaskTreeUnavailableError(
      pid,
      "bad-answer",
      `Process ${pid} answered something that is not a task tree: ${snapshot.error ?? JSON.stringify(text.slice(0, 80))}`,
    );
  }
  return snapshot as TaskTreeSnapshot;
}
