/**
 * `npm start` until the CLI lands: a short runnable tour of aiokit's core.
 * @internal
 */
import { gather, sleep, TaskGroupError, TimeoutError, taskGroup, timeout } from "./index.js";

const started = performance.now();
const elapsed = (): string => `${Math.round(performance.now() - started)} ms`;

console.log("aiokit tour\n");

// 1. gather: three 100 ms jobs at once take 100 ms, not 300.
const results = await gather([
  (signal) => sleep(100, { signal }).then(() => "a"),
  (signal) => sleep(100, { signal }).then(() => "b"),
  (signal) => sleep(100, { signal }).then(() => "c"),
]);
console.log(`gather: ${JSON.stringify(results)} after ${elapsed()} (3 × 100 ms, concurrently)`);

// 2. A failing task cancels its siblings; the group waits for them all.
const t0 = performance.now();
let cancelled = 0;
try {
  await taskGroup(async (tg) => {
    for (let i = 0; i < 5; i++) {
      tg.spawn(async (signal) => {
        try {
          await sleep(10_000, { signal });
        } finally {
          cancelled++;
        }
      });
    }
    tg.spawn(async () => {
      await sleep(50);
      throw new Error("one task failed");
    });
  });
} catch (error) {
  if (!(error instanceof TaskGroupError)) throw error;
  console.log(
    `taskGroup: ${error.message}; ${cancelled} siblings cancelled and awaited in ${Math.round(performance.now() - t0)} ms`,
  );
}

// 3. timeout cancels the work and reports a TimeoutError.
try {
  await timeout(50, (signal) => sleep(10_000, { signal }));
} catch (error) {
  console.log(`timeout: ${error instanceof TimeoutError ? error.message : String(error)}`);
}
console.log(`\ndone in ${elapsed()}`);
