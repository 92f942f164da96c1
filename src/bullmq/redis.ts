import type { Redis, RedisOptions } from "ioredis";
import { describe } from "../_internal/describe.js";
import { ioredis } from "./deps.js";

/** Where Redis is: a `redis://` (or `rediss://`) URL, or ioredis options. */
export type Connection = string | RedisOptions;

/**
 * ioredis options from a {@link Connection}. By default a lost connection is
 * retried for ~4 s, then given up, so producers and workers fail with a clear
 * error instead of hanging; pass your own `retryStrategy` to change that.
 */
export function redisOptions(connection: Connection): RedisOptions {
  let options: RedisOptions;
  if (typeof connection === "string") {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new TypeError(
        `Expected \`connection\` to be a redis:// URL, got ${describe(connection)}`,
      );
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
      throw new TypeError(
        `Expected \`connection\` to be a redis:// URL, got ${describe(connection)}`,
      );
    }
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    options = {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port === "" ? 6379 : Number(url.port),
      db,
      ...(url.username === "" ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) }),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    };
  } else if (typeof connection === "object" && connection !== null) {
    options = { ...connection };
  } else {
    throw new TypeError(
      `Expected \`connection\` to be a redis:// URL or ioredis options, got ${describe(connection)}`,
    );
  }
  return {
    retryStrategy: (times: number) => (times > 10 ? null : Math.min(times * 100, 500)),
    ...options,
    maxRetriesPerRequest: null, // BullMQ's blocking commands need it
  };
}

/**
 * The error of a run or a worker when Redis went away and did not come back
 * (ioredis gave up reconnecting, after ~4 s by default).
 *
 * @example
 * ```ts
 * import { RedisUnavailableError, runWorker } from "aiokit/bullmq";
 * try {
 *   await runWorker("crawl", [fetchPage], { connection: "redis://127.0.0.1:6379" });
 * } catch (error) {
 *   if (error instanceof RedisUnavailableError) process.exit(75); // let the supervisor restart us
 *   throw error;
 * }
 * ```
 */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

/**
 * A client that rejects every pending and future command once ioredis gives
 * up reconnecting. Named `aiokit-<what>` (unless the options name it), so
 * `CLIENT LIST` tells aiokit's connections from BullMQ's.
 */
export function connect(options: RedisOptions, what: string): Redis {
  const client = new ioredis.Redis({
    connectionName: `aiokit-${what.replaceAll(" ", "-")}`,
    ...options,
    lazyConnect: false,
  } as never);
  client.on("error", () => {}); // reported through "end" and the commands' rejections
  return Object.assign(client, { aiokitWhat: what });
}

/** Whether ioredis gave up on this client: every command now fails. */
export function ended(client: Redis): boolean {
  return client.status === "end";
}

/**
 * Whether a command failed because Redis went away for good: one of
 * `clients` ended, or `error` is the one ioredis (and BullMQ) rejects with
 * once a connection gave up. The error matters on its own: BullMQ's queues
 * and workers have connections of their own, and each gives up on its own
 * schedule, so theirs may end while `clients` are still reconnecting. No
 * connection is closed on purpose while it is in use, so that error means
 * a lost one.
 */
export function connectionLost(error: unknown, ...clients: readonly Redis[]): boolean {
  return clients.some(ended) || (error instanceof Error && error.message === CONNECTION_CLOSED);
}

/** What ioredis's and BullMQ's commands reject with on a connection that gave up. */
const CONNECTION_CLOSED = "Connection is closed.";

/** The error for a client that ended. */
export function unavailable(
  options: RedisOptions,
  what: string,
  cause?: unknown,
): RedisUnavailableError {
  return new RedisUnavailableError(
    `Lost the connection to Redis at ${where(options)} (${what}) and could not reconnect; is redis-server running?`,
    { cause },
  );
}

/**
 * The error of a run or a worker when Redis is older than aiokit/bullmq
 * needs (6.2: results are added with `XADD … NOMKSTREAM`).
 *
 * @example
 * ```ts
 * import { RedisVersionError, runWorker } from "aiokit/bullmq";
 * try {
 *   await runWorker("crawl", [fetchPage], { connection: "redis://127.0.0.1:6379" });
 * } catch (error) {
 *   if (error instanceof RedisVersionError) console.error(error.message); // says which version it found
 *   throw error;
 * }
 * ```
 */
export class RedisVersionError extends Error {
  override readonly name = "RedisVersionError";
  constructor(
    /** The version the server reported. */
    readonly version: string,
    where: string,
  ) {
    super(
      `Redis at ${where} is version ${version}; aiokit/bullmq needs Redis 6.2 or later (upgrade redis-server)`,
    );
  }
}

/** The oldest Redis that has every command aiokit/bullmq uses. */
const MIN_VERSION = [6, 2];

/** Rejects with a {@link RedisVersionError} when the server is older than 6.2. */
export async function checkVersion(client: Redis, options: RedisOptions): Promise<void> {
  const info = await client.info("server");
  const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? "unknown";
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [needMajor = 0, needMinor = 0] = MIN_VERSION;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return;
  throw new RedisVersionError(version, where(options));
}

function where(options: RedisOptions): string {
  return options.path ?? `${options.host ?? "localhost"}:${options.port ?? 6379}`;
}

/** The Redis keys of one queue name; aiokit's own keys, beside BullMQ's. */
export function keys(name: string) {
  const base = `aiokit:${name}`;
  return {
    runs: `${base}:runs`,
    run: (runId: string) => `${base}:run:${runId}`,
    results: (runId: string) => `${base}:run:${runId}:results`,
    producer: (runId: string) => `${base}:run:${runId}:producer`,
    queue: (runId: string) => `${name}.${runId}`,
  };
}

/** An error as plain data, to cross machines. */
export function errorToData(error: unknown): unknown {
  if (error instanceof Error) {
    const data: Record<string, unknown> = { name: error.name, message: error.message };
    if (error.stack !== undefined) data.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (code !== undefined) data.code = code;
    if (error instanceof AggregateError) data.errors = error.errors.map(errorToData);
    if (error.cause !== undefined) data.cause = errorToData(error.cause);
    return { $error: data };
  }
  return { $value: error };
}

/** The error again, as an `Error` with the original name, message, stack and code. */
export function errorFromData(data: unknown): unknown {
  const { $error, $value } = data as { $error?: Record<string, unknown>; $value?: unknown };
  if ($error === undefined) return $value;
  const options = $error.cause === undefined ? undefined : { cause: errorFromData($error.cause) };
  const error: Error & { code?: unknown; errors?: unknown[] } = Array.isArray($error.errors)
    ? new AggregateError($error.errors.map(errorFromData), String($error.message), options)
    : new Error(String($error.message), options);
  Object.defineProperty(error, "name", {
    value: String($error.name),
    configurable: true,
    writable: true,
  });
  if (typeof $error.stack === "string") error.stack = $error.stack;
  if ($error.code !== undefined) error.code = $error.code;
  return error;
}
