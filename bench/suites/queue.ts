/**
 * Queue round trip (issue 3): 1,000,000 integers from one producer task to one
 * consumer task, through aiokit's Queue (unbounded, and maxsize 100), through
 * a plain array (the baseline: the same two tasks, each awaiting once per item,
 * with a push/shift array between them), and through asyncio's Queue (a Python
 * peer, when python3 exists). "awaits only" is the floor: the same awaits with
 * no data moved.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue, taskGroup } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";

const N = 1_000_000;
const EXPECTED = (N * (N - 1)) / 2;

function check(sum: number): void {
  if (sum !== EXPECTED)
    throw new Error(`Lost or duplicated items: sum ${sum}, expected ${EXPECTED}`);
}

async function throughQueue(maxsize: number | undefined): Promise<void> {
  const queue = new Queue<number>({ maxsize });
  let sum = 0;
  await taskGroup((tg) => {
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) await queue.put(i);
    });
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) sum += await queue.get();
    });
  });
  check(sum);
}

// The same traffic through a plain array used as a queue (push / shift), with
// no waiting machinery: the consumer just yields again while it is empty.
async function throughArray(): Promise<void> {
  const items: number[] = [];
  let sum = 0;
  await taskGroup((tg) => {
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) {
        items.push(i);
        await undefined;
      }
    });
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) {
        while (items.length === 0) await undefined;
        sum += await (items.shift() as number);
      }
    });
  });
  check(sum);
}

// The floor: the two tasks' awaits alone, no data moved.
async function awaitsOnly(): Promise<void> {
  let sum = 0;
  await taskGroup((tg) => {
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) await undefined;
    });
    tg.spawn(async () => {
      for (let i = 0; i < N; i++) sum += await i;
    });
  });
  check(sum);
}

let python: boolean | undefined;
function asyncio(maxsize: number): readonly string[] | undefined {
  python ??= spawnSync("python3", ["--version"]).status === 0;
  if (!python) return undefined;
  const script = fileURLToPath(new URL("../../../bench/python/queue_asyncio.py", import.meta.url));
  return ["python3", script, String(maxsize), String(N)];
}

const suite: BenchSuite = {
  title: `Queue: ${N.toLocaleString("en")} items, one producer task, one consumer task`,
  target: "aiokit ≥ 5× faster than asyncio's Queue, and within 3× of the plain array",
  cases: [
    { name: "plain array (push/shift)", run: throughArray, baseline: true },
    { name: "awaits only (floor)", run: awaitsOnly },
    { name: "aiokit Queue (unbounded)", run: () => throughQueue(undefined) },
    { name: "aiokit Queue (maxsize 100)", run: () => throughQueue(100) },
    { name: "asyncio Queue (unbounded)", command: () => asyncio(0) },
    { name: "asyncio Queue (maxsize 100)", command: () => asyncio(100) },
  ],
};

export default suite;
