/** `map` at concurrency 256: aiokit, the hand-written loop and the fast peers (see map.ts for all). */
import { mapSuite } from "../throughput-workloads.js";

export default mapSuite(256, { slowPeers: false });
