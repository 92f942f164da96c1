/** Help texts of `aiokit worker`, `runs` and `cancel` (no bullmq import: help works without it). */

export const workerHelp = `Usage: aiokit worker REDIS_URL [options]

Makes the requests of every \`aiokit fetch --queue REDIS_URL\` run, on this machine, until
Ctrl-C. Start as many as you like, anywhere that reaches Redis: a run's -c, --per-host and
--rate hold across all of them. REDIS_URL is redis://HOST:PORT/DB (rediss:// for TLS).

Options:
  -c, --concurrency N  requests in flight in this process at most, over every run (default 64)
      --lock-ms MS     how long a request stays ours without a heartbeat (default 30000): a
                       dead worker's requests go to another after about 1.5 × MS
  -h, --help           this help

--save DIR of a run must be storage every worker can write (a shared mount): a worker
where DIR is not a directory records the request as failed, saying so.

Ctrl-C: take no new requests, finish those in flight, exit 0.
Ctrl-C again: abort them; they go back to the queue for another worker.
Exit codes: 0 stopped by Ctrl-C, 1 Redis went away or is too old (< 6.2), 2 bad command line.

Example:
  aiokit worker redis://10.0.0.5:6379/0 -c 100 --lock-ms 10000`;

export const runsHelp = `Usage: aiokit runs REDIS_URL [--json]

Lists the fetch runs on Redis: id, progress (results read / requests enqueued), workers
serving it, age, and the producer's output (host:path). A run whose producer died says
"no producer": \`aiokit fetch … --resume\` on the same host and output attaches to it,
\`aiokit cancel\` removes it.

Options:
  --json      one JSON object per run
  -h, --help  this help`;

export const cancelHelp = `Usage: aiokit cancel REDIS_URL RUN

Cancels run RUN (an id from \`aiokit runs\`) everywhere: requests in flight on every worker
are aborted within a second, queued ones removed, and its producer stops with an error.
Records already written stay; \`aiokit fetch … --resume\` would do the rest in a new run.
Exit codes: 0 cancelled, 1 no such run, 2 bad command line.`;
