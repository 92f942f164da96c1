/**
 * The demo's sections: asyncio's three workflows, each measured on the demo's
 * own server, in a few lines of output.
 */
import { Client, Pool as HttpPool } from "undici";
import { isCancellation, map, Pool, stream, taskGroup } from "../../index.js";
import type { DemoServer } from "./server.js";

export interface ConcurrencyFigures {
  readonly requests: number;
  readonly latencyMs: number;
  readonly sequentialMs: number;
  readonly concurrentMs: number;
  readonly concurrency: number;
  readonly speedup: number;
}

/** (1) 200 requests one after another, then with `map` at concurrency 50. */
export async function concurrentTasks(
  server: DemoServer,
  requests = 200,
  concurrency = 50,
): Promise<ConcurrencyFigures> {
  const client = new HttpPool(server.url, { connections: concurrency, pipelining: 1 });
  const get = async (i: number, signal?: AbortSignal): Promise<string> => {
    const res = await client.request({ path: `/item/${i}`, method: "GET", signal });
    return res.body.text();
  };
  try {
    await get(-1); // warm up: the first connection
    let started = performance.now();
    for (let i = 0; i < requests; i++) await get(i);
    const sequentialMs = performance.now() - started;
    started = performance.now();
    const bodies = await map(
      Array.from({ length: requests }, (_, i) => i),
      (i, _index, signal) => get(i, signal),
      {
        concurrency,
      },
    );
    const concurrentMs = performance.now() - started;
    if (bodies.length !== requests) throw new Error("map lost results");
    return {
      requests,
      latencyMs: 20,
      sequentialMs,
      concurrentMs,
      concurrency,
      speedup: sequentialMs / concurrentMs,
    };
  } finally {
    await client.close();
  }
}

export interface ResourceFigures {
  readonly tasks: number;
  readonly poolMax: number;
  readonly connectionsOpened: number;
  readonly openWhileRunning: number;
  readonly cancelledSiblings: number;
  readonly failure: string;
  readonly openAfterClose: number;
  readonly created: number;
  readonly destroyed: number;
}

/**
 * (2) A pool of keep-alive connections shared by 20 tasks with `await using`;
 * one task fails, the group cancels the rest, the pool closes everything. The
 * server's own count shows no connection leaked.
 */
export async function resourceManagement(
  server: DemoServer,
  tasks = 20,
  poolMax = 5,
): Promise<ResourceFigures> {
  const before = server.totalConnections;
  const pool = new Pool<Client>({
    create: () => new Client(server.url, { pipelining: 1 }),
    destroy: (client) => client.close(),
    max: poolMax,
  });
  let cancelled = 0;
  let openWhileRunning = 0;
  let failure = "";
  try {
    await taskGroup(async (tg) => {
      for (let t = 0; t < tasks; t++) {
        tg.spawn(async (signal) => {
          try {
            for (let r = 0; ; r++) {
              await using conn = await pool.acquire({ signal });
              const path = t === 7 && r === 3 ? "/fail" : `/item/${t}-${r}`;
              const res = await conn.value.request({ path, method: "GET", signal });
              await res.body.text();
              openWhileRunning = Math.max(openWhileRunning, server.openConnections);
              if (res.statusCode >= 500)
                throw new Error(`task ${t} got HTTP ${res.statusCode} from ${path}`);
              if (r === 20) return;
            }
          } catch (error) {
            if (isCancellation(error)) cancelled++;
            throw error;
          }
        });
      }
    });
  } catch (error) {
    failure =
      error instanceof AggregateError ? String((error.errors[0] as Error).message) : String(error);
  } finally {
    await pool.close();
  }
  // The server sees the closes a moment after the client sends them.
  for (let i = 0; i < 100 && server.openConnections > 0; i++)
    await new Promise((r) => setTimeout(r, 5));
  return {
    tasks,
    poolMax,
    connectionsOpened: server.totalConnections - before,
    openWhileRunning,
    cancelledSiblings: cancelled,
    failure,
    openAfterClose: server.openConnections,
    created: pool.stats.created,
    destroyed: pool.stats.destroyed,
  };
}

export interface StreamFigures {
  readonly records: number;
  readonly batches: number;
  readonly streamMs: number;
  readonly streamPeakHeapMb: number;
  readonly materializedMs: number;
  readonly materializedPeakHeapMb: number;
}

interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly value: number;
}

async function* readings(count: number): AsyncGenerator<Reading> {
  for (let id = 0; id < count; id++)
    yield { id, sensor: `s${id % 100}`, value: (id * 7919) % 1000 };
}

const enrich = (r: Reading): { id: number; sensor: string; celsius: number } => ({
  id: r.id,
  sensor: r.sensor,
  celsius: (r.value - 320) / 1.8,
});

/**
 * (3) A million records through `stream(...).map(...).batch(...)` in flat
 * memory, next to the materialize-everything version of the same job.
 */
export async function asyncStreams(records = 1_000_000): Promise<StreamFigures> {
  const heap = (): number => process.memoryUsage().heapUsed;
  const gc = (globalThis as { gc?: () => void }).gc;

  gc?.();
  let base = heap();
  let peak = 0;
  let batches = 0;
  let started = performance.now();
  for await (const batch of stream(readings(records)).map(enrich).batch(1_000)) {
    batches++;
    if (batch.length === 0) throw new Error("empty batch");
    if (batches % 50 === 0) peak = Math.max(peak, heap() - base);
  }
  const streamMs = performance.now() - started;

  gc?.();
  base = heap();
  started = performance.now();
  const all: Reading[] = [];
  for await (const r of readings(records)) all.push(r);
  const enriched = all.map(enrich);
  const chunks: (typeof enriched)[] = [];
  for (let i = 0; i < enriched.length; i += 1_000) chunks.push(enriched.slice(i, i + 1_000));
  const materializedPeak = heap() - base;
  const materializedMs = performance.now() - started;
  if (chunks.length !== batches) throw new Error("the two versions disagree");
  return {
    records,
    batches,
    streamMs,
    streamPeakHeapMb: Math.max(0, peak) / 1e6,
    materializedMs,
    materializedPeakHeapMb: materializedPeak / 1e6,
  };
}
