/**
 * Async streams: a lazy pipeline over an async generator, with a concurrent
 * map (order kept, at most 8 in flight), a filter and batches of 10. The
 * source is pulled only as fast as the consumer goes, so memory stays flat
 * however long the source is.
 */
import { sleep, stream } from "aiokit";

let pulled = 0;
async function* records(count: number): AsyncGenerator<{ id: number; price: number }> {
  for (let id = 1; id <= count; id++) {
    pulled++;
    yield { id, price: (id * 37) % 100 };
  }
}

/** Stands in for an enrichment call per record (an HTTP lookup, a cache read). */
async function enrich(record: { id: number; price: number }, signal: AbortSignal) {
  await sleep(1, { signal });
  return { ...record, vat: Math.round(record.price * 0.2) };
}

let batches = 0;
let rows = 0;
for await (const batch of stream(records(1_000))
  .map((record, _i, signal) => enrich(record, signal), { concurrency: 8 })
  .filter((record) => record.price >= 50)
  .batch(10)) {
  batches++;
  rows += batch.length; // e.g. one INSERT of 10 rows
}
console.log(`wrote ${rows} rows in ${batches} batches`);

// Ending early closes the source: `take` stops pulling, the generator is closed.
pulled = 0;
const firstThree = await stream(records(1_000_000))
  .map((record, _i, signal) => enrich(record, signal), { concurrency: 8 })
  .take(3)
  .toArray();
console.log(
  `first three ids: ${firstThree.map((r) => r.id).join(", ")}; pulled ${pulled} of 1,000,000`,
);

if (rows !== 500 || batches !== 50) throw new Error(`unexpected totals ${rows}/${batches}`);
if (pulled > 3 + 8 + 1) throw new Error(`the source was read too far ahead: ${pulled}`);
