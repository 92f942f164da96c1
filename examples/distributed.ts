/**
 * aiokit/bullmq: the same job code in one process or across machines.
 * Without REDIS_URL it runs on localQueue(); with REDIS_URL=redis://host:port
 * it runs on BullMQ, with a worker in this process (in production, run
 * `runWorker` on other machines importing the same task module).
 */
import { defineTask, distributedQueue, localQueue, runWorker } from "aiokit/bullmq";

// Defined in a module that the producer and every worker import.
const wordCount = defineTask("wordCount", async (text: string, { signal }) => {
  signal.throwIfAborted();
  return text.split(/\s+/).filter(Boolean).length;
});

const url = process.env.REDIS_URL;
// The one-line switch:
const queue = url === undefined ? localQueue() : distributedQueue("example", { connection: url });

const stop = new AbortController();
const worker =
  url === undefined
    ? Promise.resolve()
    : runWorker("example", [wordCount], { connection: url, concurrency: 4, signal: stop.signal });

const texts = ["structured concurrency", "for TypeScript", "on one machine or many", ""];
try {
  const counts = await queue.map(texts, wordCount, { concurrency: 2, retry: { retries: 2 } });
  console.log(url === undefined ? "local:" : "distributed:", counts); // [2, 2, 5, 0]
  for await (const outcome of queue.run(texts, wordCount)) {
    console.log(`input ${outcome.index} ${outcome.status} after ${outcome.attempts} attempt(s)`);
  }
} finally {
  stop.abort();
  await worker;
}
