/**
 * An ordered stream map at concurrency 64 over a lazy async generator of
 * 1,000,000 items, consumed with for await: aiokit's `stream().map` against a
 * hand-written ordered sliding window, p-map's pMapIterable,
 * streaming-iterables' parallelMap and Node's Readable.map.
 */
import { Readable } from "node:stream";
import { pMapIterable } from "p-map";
import { parallelMap } from "streaming-iterables";
import { stream } from "../../src/index.js";
import type { BenchSuite } from "../harness.js";
import { drain, N, noop, numbers, slidingWindow } from "../throughput-workloads.js";

const concurrency = 64;

const suite: BenchSuite = {
  title: `stream: map over a lazy ${N.toLocaleString("en")}-item async generator, concurrency ${concurrency}, ordered`,
  target: "aiokit within 1.3× of the hand-written window, peak RSS no higher than pMapIterable's",
  cases: [
    {
      name: "hand-written sliding window",
      baseline: true,
      run: () => drain(slidingWindow(numbers(), concurrency, noop)),
    },
    {
      name: "aiokit stream().map",
      run: async () => {
        await drain(stream(numbers()).map(noop, { concurrency }));
      },
    },
    {
      name: "p-map pMapIterable",
      run: async () => {
        await drain(pMapIterable(numbers(), noop, { concurrency }));
      },
    },
    {
      name: "streaming-iterables parallelMap",
      run: async () => {
        await drain(parallelMap(concurrency, noop, numbers()));
      },
    },
    {
      name: "Node Readable.map",
      run: () =>
        drain(Readable.from(numbers()).map(noop, { concurrency }) as AsyncIterable<number>),
    },
    {
      name: "aiokit stream().map, unordered",
      run: async () => {
        await drain(stream(numbers()).map(noop, { concurrency, ordered: false }), false);
      },
    },
  ],
};

export default suite;
