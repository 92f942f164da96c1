// A worker process of the bullmq benchmark: node bullmq-worker.js <redis-url> <concurrency>
import { runWorker } from "../../src/bullmq/index.js";
import { hit, whoami } from "./bullmq-tasks.js";

const [url, concurrency] = process.argv.slice(2);
if (url === undefined) {
  console.error("usage: bullmq-worker.js <redis-url> <concurrency>");
  process.exit(2);
}
await runWorker("bench", [hit, whoami], { connection: url, concurrency: Number(concurrency) });
