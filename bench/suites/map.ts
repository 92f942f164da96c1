/**
 * `map` over 1,000,000 no-op async tasks at concurrency 16 against the
 * hand-written worker loop and every peer of issue 4 (async.mapLimit, p-map,
 * bluebird, p-limit, p-queue, Python's asyncio gather + Semaphore).
 * map-c1.ts and map-c256.ts run the same at concurrency 1 and 256.
 */
import { mapSuite } from "../throughput-workloads.js";

export default mapSuite(16, { slowPeers: true });
