/**
 * Structured concurrency: a task group owns its tasks. When one fails, the
 * others are cancelled, and the group waits for all of them before it reports
 * every real error at once. Nothing is left running in the background.
 */
import { isCancellation, sleep, TaskGroupError, taskGroup } from "aiokit";

const log: string[] = [];
try {
  await taskGroup(async (tg) => {
    for (const name of ["images", "styles", "scripts"]) {
      tg.spawn(
        async (signal) => {
          try {
            await sleep(1_000, { signal });
            log.push(`${name} downloaded`);
          } catch (error) {
            if (isCancellation(error)) log.push(`${name} cancelled`);
            throw error;
          }
        },
        { name },
      );
    }
    tg.spawn(async () => {
      await sleep(50);
      throw new Error("the index page is gone");
    });
  });
} catch (error) {
  if (!(error instanceof TaskGroupError)) throw error;
  console.log(error.message); // Task group failed with 1 error: the index page is gone
}
console.log(log.sort()); // [ 'images cancelled', 'scripts cancelled', 'styles cancelled' ]
if (log.length !== 3) throw new Error("every sibling should have been cancelled");
