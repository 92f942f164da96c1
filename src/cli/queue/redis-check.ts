/**
 * Before a run: is Redis there? One connection attempt, no retries, so an
 * unreachable Redis is an error at once, not after the reconnect attempts
 * that a running producer or worker makes. (The version is checked by
 * aiokit/bullmq itself: it needs Redis 6.2.)
 */
import { PreflightError } from "../fetch/preflight.js";

/** Rejects with a PreflightError when Redis at `url` can't be reached or refuses us. */
export async function checkRedis(url: string): Promise<void> {
  const { Redis } = await import("ioredis").catch((error: unknown) => {
    throw new PreflightError(
      `Cannot use ${url}: --queue and aiokit worker need bullmq and ioredis (npm install bullmq ioredis): ${(error as Error).message}`,
    );
  });
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    enableOfflineQueue: false,
  });
  client.on("error", () => {}); // the connect() rejection says it
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === undefined ? (error as Error).message : code;
    throw new PreflightError(
      `Cannot reach Redis at ${url} (${why}); is redis-server running there?`,
    );
  } finally {
    client.disconnect();
  }
}
