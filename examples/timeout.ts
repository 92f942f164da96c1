/**
 * Timeouts that cancel: `timeout` aborts the work's signal when time runs out,
 * waits for it to stop, then throws a TimeoutError. `moveOnAfter` gives up
 * quietly instead, for optional work.
 */
import { moveOnAfter, sleep, TimeoutError, timeout } from "aiokit";

async function slowQuery(signal: AbortSignal): Promise<string> {
  await sleep(5_000, { signal });
  return "rows";
}

try {
  await timeout(100, slowQuery);
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log(`timeout: ${error.message}`); // timeout: The operation timed out after 100 ms
}

const extras = await moveOnAfter(50, slowQuery);
console.log(`optional extras: ${extras ?? "skipped"}`); // optional extras: skipped
