/**
 * The names documentation examples leave to the reader (a URL, a database
 * client, a function of theirs), as ambient declarations. An example that uses
 * one is type-checked against these and not run (scripts/check-examples.ts).
 * Never declare an aiokit export here: that would hide a missing import.
 */
export const prelude = `
type Opts = { signal?: AbortSignal };
interface User { id: string; name: string; role: string }
interface Post { id: string; title: string }
interface Job { id: string; deadline: number }
interface Connection extends AsyncDisposable {
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
  isAlive(): boolean;
}
declare const signal: AbortSignal;
declare const fetchPage: import("aiokit/bullmq").TaskDefinition<string, string>;
declare const tg: import("aiokit").TaskGroup;
declare const pool: import("aiokit").Pool<Connection>;
declare const workers: import("aiokit/node").WorkerPool;
declare const rate: import("aiokit").RateLimiter;
declare const db: { commit(): Promise<void>; insert(rows: unknown[]): Promise<void>; insertMany(rows: unknown[]): Promise<void> };
declare const logger: { warn(message: string): void };
declare const url: string, dbUrl: string, path: string, id: string, tenantId: string, data: string, other: string;
declare const a: string, b: string, pid: number, page: string;
declare const urls: string[], ids: string[], sites: string[], mirrors: string[], hosts: string[];
declare const pageUrls: string[], files: string[], names: string[], lines: string[], jobs: Job[];
declare const rows: AsyncIterable<{ id: number; active: boolean }>;
declare const events: AsyncIterable<unknown>, messages: AsyncIterable<string>, socketMessages: AsyncIterable<string>;
declare const source: AsyncIterable<number>, cachedItems: string[];
declare const orders: { amount: number }[], results: { status: string }[], checks: { ok: boolean }[];
declare const left: EventTarget, right: EventTarget;
declare const blocks: import("aiokit/node").BlockReport[];
declare function connect(url: string, options?: Opts): Promise<Connection>;
declare function enrich<T>(row: T, context?: unknown): Promise<T & { active: boolean }>;
declare function save(row: unknown): void;
declare function getJson(path: string, signal: AbortSignal): Promise<unknown>;
declare function getUser(id: string, options?: Opts): Promise<User>;
declare function getPosts(id: string, options?: Opts): Promise<Post[]>;
declare function fetchUser(id: string, options?: Opts): Promise<User>;
declare function loadUser(id: string): Promise<User>;
declare function fetchText(url: string, signal: AbortSignal): Promise<string>;
declare function fetchA(signal: AbortSignal): Promise<number>;
declare function fetchB(signal: AbortSignal): Promise<string>;
declare function fetchFlaky(): Promise<string>;
declare function fetchItems(url: string, options?: Opts): Promise<string[]>;
declare function fetchRecommendations(signal: AbortSignal): Promise<string[]>;
declare function fetchLive(): AsyncIterable<string>;
declare function render(page: string, extras: string[]): void;
declare function stepOne(signal: AbortSignal): Promise<string>;
declare function stepTwo(input: string, signal: AbortSignal): Promise<string>;
declare function syncTenant(id: string, options?: Opts): Promise<void>;
declare function prepare(index: number): Promise<void>;
declare function crawl(url: string): Promise<void>;
declare function work(...args: unknown[]): Promise<void>;
declare function serve(signal: AbortSignal): Promise<void>;
declare function runStartupWork(): void;
declare function sha256(data: string): string;
declare function ping(host: string, options?: Opts): Promise<boolean>;
declare function upload(file: string, options?: Opts): Promise<void>;
declare function handle(message: unknown): void;
declare function numbers(): AsyncIterable<number>;
declare function scores(): AsyncIterable<number>;
declare function users(): AsyncIterable<User>;
declare function readChunks(): AsyncIterable<Uint8Array>;
declare function readLog(): AsyncIterable<string>;
`;

/** Modules examples import by a relative path, written beside them. */
export const support: Record<string, string> = {
  "hash.ts": `import { createHash } from "node:crypto";
/** The worker module of the toWorker and WorkerPool examples. */
export function sha256(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}
`,
};
