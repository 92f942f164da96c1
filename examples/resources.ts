/**
 * Resource management: `await using` releases a resource on every path, like
 * Python's `async with`. A Pool lends out a few reusable "connections";
 * AsyncExitStack closes a dynamic set of resources in reverse order;
 * `resource()` turns acquire/release code into a disposable handle.
 */
import { AsyncExitStack, gather, Pool, resource, sleep } from "aiokit";

let nextId = 1;
const open = new Set<number>();
const log: string[] = [];

/** Stands in for a database connection: opening and querying take time. */
async function connect(
  signal: AbortSignal,
): Promise<{ id: number; query: (q: string) => Promise<string> }> {
  await sleep(5, { signal });
  const id = nextId++;
  open.add(id);
  const query = async (q: string): Promise<string> => {
    await sleep(2);
    return `conn ${id}: ${q}`;
  };
  return { id, query };
}

// 1. A pool of at most 2 connections shared by 6 concurrent queries.
{
  await using pool = new Pool({
    create: connect,
    destroy: (conn) => void open.delete(conn.id),
    max: 2,
  });
  const rows = await gather(
    [1, 2, 3, 4, 5, 6].map(
      (n) => (signal: AbortSignal) => pool.use((conn) => conn.query(`select ${n}`), { signal }),
    ),
  );
  console.log(rows.join("\n"));
  console.log(`pool: ${JSON.stringify(pool.stats)}`); // created: 2, borrowed: 0
  {
    await using lease = await pool.acquire();
    console.log(`borrowed ${lease.value.id}, stats.borrowed = ${pool.stats.borrowed}`);
  } // the lease goes back here
} // `await using pool` closes it: every connection destroyed
console.log(`after the pool closed, open connections: ${open.size}`);

// 2. AsyncExitStack: cleanups run last-in first-out, even when the work fails.
try {
  await using stack = new AsyncExitStack();
  for (const name of ["a", "b", "c"]) {
    stack.defer(() => log.push(`closed ${name}`));
    log.push(`opened ${name}`);
  }
  throw new Error("work failed");
} catch (error) {
  log.push(`caught: ${(error as Error).message}`);
}
console.log(log.join(", "));

// 3. resource(): an async generator as a context manager (code after yield releases).
const tempFile = resource(async function* (name: string) {
  console.log(`create ${name}`);
  try {
    yield { name, lines: [] as string[] };
  } finally {
    console.log(`delete ${name}`);
  }
});
{
  await using file = await tempFile("report.tmp");
  file.value.lines.push("hello");
  console.log(`${file.value.name} has ${file.value.lines.length} line`);
}

if (open.size !== 0) throw new Error("a connection leaked");
if (log.join() !== "opened a,opened b,opened c,closed c,closed b,closed a,caught: work failed") {
  throw new Error(`unexpected order: ${log.join()}`);
}
