/** `aiokit fetch` command-line options: parsed, validated, with clear usage errors. */
import { parseCommandLine, UsageError, wholeNumber } from "../usage.js";
import { headersProblem, methodProblem } from "./request-check.js";

export interface FetchOptions {
  /** Input file, or "-" for stdin. */
  readonly input: string;
  readonly output: string | undefined;
  readonly concurrency: number;
  readonly perHost: number | undefined;
  /** Starts per second, overall or (with ratePerHost) per host. */
  readonly rate: number | undefined;
  readonly ratePerHost: boolean;
  /** Per attempt, in ms. */
  readonly timeout: number;
  readonly retries: number;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxRedirects: number;
  readonly save: string | undefined;
  readonly resume: boolean;
  /** Response headers copied into each record. */
  readonly keepHeaders: readonly string[];
  /** Largest body kept inline in a record, in bytes. */
  readonly maxBody: number;
  readonly progress: "auto" | "always" | "never";
  readonly quiet: boolean;
  /** With --queue: the Redis URL whose `aiokit worker`s make the requests. */
  readonly queue: string | undefined;
}

export const fetchHelp = `Usage: aiokit fetch [FILE|-] [options]

Fetches every URL of FILE (or stdin) concurrently and writes one NDJSON result per request,
as each arrives. Input lines are URLs, or JSON objects {"url", "method"?, "headers"?, "body"?};
blank lines and lines starting with # are skipped. The input is streamed, never read whole.

Options:
  -o, --output FILE      write results to FILE (appends; default stdout)
  -c, --concurrency N    requests in flight at most (default 64)
      --per-host N       requests in flight per host at most (default: no extra limit)
      --rate N/s         request starts per second at most, e.g. 200/s (also N/m, N/h)
      --rate-per-host    apply --rate to each host separately
  -t, --timeout MS       time limit per attempt, in ms (default 30000)
  -r, --retries N        retries after a network error, a timeout, 429 or 5xx (default 2);
                         waits with exponential backoff and honours Retry-After on 429/503
  -X, --method METHOD    HTTP method (default GET; an input object's "method" wins)
  -H, --header 'K: V'    request header; repeatable
      --max-redirects N  follow at most N redirects (default 5; 0 to not follow)
      --save DIR         save bodies to DIR/<sha256> and record the path and sha256
      --max-body BYTES   largest body kept inline in a record (default 1048576; longer is cut, "truncated": true)
      --keep-header NAME response header to record; repeatable (default: content-type, content-length, location, retry-after)
      --resume           skip input lines already in --output, repair a partial last line, append
      --progress WHEN    auto (default: on a terminal), always, never
      --queue URL        make the requests on the \`aiokit worker\`s of Redis URL (redis://HOST:PORT/DB),
                         same flags, same output; -c, --per-host, --rate (and per host) hold across all workers.
                         --save DIR must then be storage every worker can write (see aiokit help worker)
  -q, --quiet            no summary on stderr
  -h, --help             this help

Each record: {"line","url","method","status","ok","headers","ms","bytes","attempts",
"body" (+"truncated") | "file"+"sha256", "redirects"+"finalUrl" when redirected, "error"}.
A malformed input line becomes a record with "error" and its line number; the run goes on.

Ctrl-C: stop taking new URLs, let requests in flight finish, flush, exit 130 (SIGTERM: 143).
Ctrl-C again: abort the requests in flight (recorded with "error": "cancelled").
A crash or kill -9 leaves at most a partial last line; --resume repairs it.

Exit codes: 0 all requests answered (any HTTP status), 1 some requests failed (network error,
timeout, bad input line), 2 bad command line, 130 interrupted,
143 terminated (SIGTERM).

Examples:
  aiokit fetch urls.txt -o results.ndjson -c 100 --per-host 4 --rate 50/s
  aiokit fetch urls.txt -o results.ndjson --resume        # carry on after Ctrl-C or a crash
  cat urls.txt | aiokit fetch - --save bodies/ > results.ndjson
  aiokit fetch requests.ndjson -X POST -H 'Content-Type: application/json'
  aiokit fetch urls.txt -o results.ndjson --queue redis://10.0.0.5:6379/0 -c 200   # on many machines`;

const DEFAULT_KEEP = ["content-type", "content-length", "location", "retry-after"];

export function parseFetchArgs(argv: readonly string[]): FetchOptions | "help" {
  const { values, positionals } = parseCommandLine("fetch", {
    args: joinNegativeNumbers(argv),
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help === true) return "help";
  if (positionals.length > 1)
    throw new UsageError(`Expected one input (FILE or -), got ${positionals.length}`, "fetch");
  if (values.resume === true && values.output === undefined) {
    throw new UsageError(
      "--resume needs --output FILE: it reads the results already written there",
      "fetch",
    );
  }
  const progress = values.progress ?? "auto";
  if (progress !== "auto" && progress !== "always" && progress !== "never") {
    throw new UsageError(
      `Expected --progress to be auto, always or never, got ${JSON.stringify(progress)}`,
      "fetch",
    );
  }
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(":");
    if (colon <= 0)
      throw new UsageError(
        `Expected --header as 'Name: value', got ${JSON.stringify(header)}`,
        "fetch",
      );
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  const queue = values.queue;
  if (queue !== undefined) checkQueueUrl(queue, "fetch");
  const method = (values.method ?? "GET").toUpperCase();
  // Every request would be refused: say so now rather than in every record.
  const problem = methodProblem(method) ?? headersProblem(headers);
  if (problem !== undefined) throw new UsageError(`${problem} (in -X/-H)`, "fetch");
  return {
    input: positionals[0] ?? "-",
    output: values.output,
    concurrency: wholeNumber("fetch", "--concurrency", values.concurrency, 64, 1),
    perHost:
      values["per-host"] === undefined
        ? undefined
        : wholeNumber("fetch", "--per-host", values["per-host"], 1, 1),
    rate: values.rate === undefined ? undefined : parseRate(values.rate),
    ratePerHost: values["rate-per-host"] === true,
    timeout: wholeNumber("fetch", "--timeout", values.timeout, 30_000, 1),
    retries: wholeNumber("fetch", "--retries", values.retries, 2, 0),
    method,
    headers,
    maxRedirects: wholeNumber("fetch", "--max-redirects", values["max-redirects"], 5, 0),
    save: values.save,
    resume: values.resume === true,
    keepHeaders: (values["keep-header"] ?? DEFAULT_KEEP).map((h) => h.toLowerCase()),
    maxBody: wholeNumber("fetch", "--max-body", values["max-body"], 1_048_576, 0),
    progress,
    quiet: values.quiet === true,
    queue,
  };
}

/** Checks a Redis URL's form (reaching it is checked before the run): redis:// or rediss://, a host, a numeric db. */
export function checkQueueUrl(text: string, command: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const db = url?.pathname.slice(1) ?? "";
  if (
    url === undefined ||
    (url.protocol !== "redis:" && url.protocol !== "rediss:") ||
    url.hostname === "" ||
    !/^\d*$/.test(db)
  ) {
    throw new UsageError(
      `Expected a Redis URL like redis://HOST:PORT/DB (or rediss:// for TLS), got ${JSON.stringify(text)}`,
      command,
    );
  }
}

/**
 * `-c -1` as `--concurrency=-1`: parseArgs takes a value that starts with a
 * dash for a missing one ("argument is ambiguous"); a number is a value, and
 * the range check then says what is allowed.
 */
function joinNegativeNumbers(argv: readonly string[]): string[] {
  const valued = new Map<string, string>();
  for (const [name, option] of Object.entries(OPTIONS)) {
    if (option.type !== "string") continue;
    valued.set(`--${name}`, name);
    if ("short" in option) valued.set(`-${option.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = valued.get(arg);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

const OPTIONS = {
  output: { type: "string", short: "o" },
  concurrency: { type: "string", short: "c" },
  "per-host": { type: "string" },
  rate: { type: "string" },
  "rate-per-host": { type: "boolean" },
  timeout: { type: "string", short: "t" },
  retries: { type: "string", short: "r" },
  method: { type: "string", short: "X" },
  header: { type: "string", short: "H", multiple: true },
  "max-redirects": { type: "string" },
  save: { type: "string" },
  "max-body": { type: "string" },
  "keep-header": { type: "string", multiple: true },
  resume: { type: "boolean" },
  progress: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  queue: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** "200/s", "50/m", "1000/h" or a bare number (per second) → starts per second. */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h|hour))?$/.exec(text.trim());
  const value = match === null ? Number.NaN : Number(match[1]);
  if (match === null || !(value > 0)) {
    throw new UsageError(
      `Expected --rate like 200/s, 50/m or 1000/h, got ${JSON.stringify(text)}`,
      "fetch",
    );
  }
  const unit = match[2] ?? "s";
  return unit.startsWith("m") ? value / 60 : unit.startsWith("h") ? value / 3600 : value;
}
