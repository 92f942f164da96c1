"""The Python peer of `aiokit fetch` in bench/suites/fetch.ts: the same job
the way a Python scraper does it, aiohttp with asyncio.Semaphore. Reads URLs
(one a line) from FILE, fetches them C at a time over one session, and writes
one NDJSON record per request (url, status, ms, bytes, body) to OUT. At exit
it writes its peak RSS (KiB) to the file named by AIOKIT_BENCH_PEAK.

    python3 aiohttp_fetch.py FILE OUT C
"""

import asyncio
import json
import os
import resource
import sys
import time

import aiohttp


async def main(path: str, out_path: str, c: int) -> int:
    semaphore = asyncio.Semaphore(c)
    connector = aiohttp.TCPConnector(limit=c)
    failed = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        with open(out_path, "w") as out:

            async def fetch(url: str) -> None:
                nonlocal failed
                async with semaphore:
                    started = time.perf_counter()
                    try:
                        async with session.get(url) as response:
                            body = await response.read()
                            record = {
                                "url": url,
                                "status": response.status,
                                "ms": round((time.perf_counter() - started) * 1000, 2),
                                "bytes": len(body),
                                "body": body.decode("utf-8", "replace"),
                            }
                    except aiohttp.ClientError as error:
                        failed += 1
                        record = {"url": url, "error": str(error)}
                    out.write(json.dumps(record) + "\n")

            # The usual asyncio shape: a task per URL, gathered, the semaphore as the limit.
            with open(path) as urls:
                await asyncio.gather(*(fetch(u.strip()) for u in urls if u.strip()))
    return failed


if __name__ == "__main__":
    failures = asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    peak_file = os.environ.get("AIOKIT_BENCH_PEAK")
    if peak_file:
        with open(peak_file, "w") as f:
            f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    sys.exit(1 if failures else 0)
