"""asyncio's way to run N tasks at most C at a time: gather + Semaphore.

The peer of aiokit's `map` in bench/suites/map.ts: N no-op coroutines,
results in order. Prints {"ms": ..., "peakMb": ...} as its last line, like
every benchmark case (peakMb is the resident memory added while it ran).

    python3 gather_semaphore.py [N] [C]
"""

import asyncio
import json
import resource
import sys
import time


def rss_mb() -> float:
    # Current RSS from /proc (Linux); falls back to the peak so far.
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


async def main(n: int, c: int) -> list:
    semaphore = asyncio.Semaphore(c)

    async def task(x: int) -> int:
        async with semaphore:
            return x

    return await asyncio.gather(*(task(i) for i in range(n)))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    before = rss_mb()
    started = time.perf_counter()
    results = asyncio.run(main(n, c))
    ms = (time.perf_counter() - started) * 1000
    assert len(results) == n and results[-1] == n - 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux
    print(json.dumps({"ms": ms, "peakMb": max(0.0, peak - before)}))
