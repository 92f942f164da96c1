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
    disconnectTimeout: 50, // ioredis' default keeps the process alive 2 s after a refused connection
  });
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: Error | undefined;
  client.on("error", (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const first = cause ?? (error as Error);
    const why = (first as { code?: string }).code ?? first.message;
    throw new PreflightError(
      `Cannot reach Redis at ${url} (${why}); is redis-server running there?`,
    );
  } finally {
    client.disconnect();
  }
}
