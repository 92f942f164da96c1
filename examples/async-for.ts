/**
 * The brief's second program, in aiokit: an async generator produces items as
 * they become available, and `for await` processes them one by one, so the
 * whole sequence is never held in memory.
 *
 * Python:
 *   async def ticker(n):
 *       for i in range(n):
 *           await asyncio.sleep(0.01)
 *           yield i
 *   async for value in ticker(5): print(value)
 */
import { sleep } from "aiokit";

async function* ticker(count: number, signal?: AbortSignal): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    await sleep(10, { signal });
    yield i;
  }
}

const seen: number[] = [];
for await (const value of ticker(5)) {
  console.log(`got ${value}`);
  seen.push(value);
}
if (seen.join() !== "0,1,2,3,4") throw new Error(`unexpected values ${seen.join()}`);

// Cancellation reaches the generator's waits: abort after ~25 ms.
const controller = new AbortController();
setTimeout(() => controller.abort(), 25);
try {
  for await (const value of ticker(1_000, controller.signal)) console.log(`tick ${value}`);
} catch (error) {
  console.log(`stopped: ${(error as Error).name}`); // stopped: AbortError
}
