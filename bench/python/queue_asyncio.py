"""asyncio's Queue under the traffic of bench/suites/queue.ts: one producer task
puts N integers, one consumer task gets them. Prints {"ms":…,"peakMb":…}.

usage: python3 queue_asyncio.py <maxsize> <n>   (maxsize 0 = unbounded)
"""

import asyncio
import json
import resource
import sys
import time


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


async def round_trip(maxsize: int, n: int) -> int:
    queue = asyncio.Queue(maxsize)
    total = 0

    async def producer() -> None:
        for i in range(n):
            await queue.put(i)

    async def consumer() -> None:
        nonlocal total
        for _ in range(n):
            total += await queue.get()

    await asyncio.gather(producer(), consumer())
    return total


def main() -> None:
    maxsize = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    before = rss_bytes()
    started = time.perf_counter()
    total = asyncio.run(round_trip(maxsize, n))
    ms = (time.perf_counter() - started) * 1000
    assert total == n * (n - 1) // 2, total
    # ru_maxrss is in KiB on Linux, bytes on macOS; "before" is this process's
    # RSS after start-up, so peakMb is what the round trip added.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    print(json.dumps({"ms": ms, "peakMb": max(0, peak_bytes - before) / 1e6}))


if __name__ == "__main__":
    main()
