/**
 * Synchronization: a bounded Queue between producers and consumers (the put
 * waits while the queue is full: that is the backpressure), and a Semaphore
 * that lets at most two consumers use a shared "printer" at once.
 *
 * Python: asyncio.Queue(maxsize=3), asyncio.Semaphore(2), queue.shutdown().
 */
import { Queue, Semaphore, sleep, taskGroup } from "aiokit";

const queue = new Queue<number>({ maxsize: 3 });
const printer = new Semaphore(2);
let printing = 0;
let mostAtOnce = 0;
const done: number[] = [];

await taskGroup(async (tg) => {
  // Two producers; each put waits while the queue holds 3 items.
  const producers = [0, 100].map((base) =>
    tg.spawn(async (signal) => {
      for (let i = base; i < base + 5; i++) await queue.put(i, { signal });
    }),
  );
  // Three consumers; `for await` ends once the queue is shut down and drained.
  for (let c = 0; c < 3; c++) {
    tg.spawn(async (signal) => {
      for await (const job of queue.iterate({ signal })) {
        using _permit = await printer.acquire({ signal }); // released at the end of the block
        mostAtOnce = Math.max(mostAtOnce, ++printing);
        await sleep(5, { signal });
        printing--;
        done.push(job);
      }
    });
  }
  await Promise.all(producers);
  queue.shutdown(); // no more puts; consumers finish the items left, then stop
});

console.log(`processed ${done.length} jobs: ${done.sort((a, b) => a - b).join(" ")}`);
console.log(`at most ${mostAtOnce} printing at once (the semaphore allows 2)`);
if (done.length !== 10 || mostAtOnce > 2) throw new Error("the queue or the semaphore misbehaved");
