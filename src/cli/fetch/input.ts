/**
 * Reads fetch requests from a stream, one a line, without reading the whole
 * input: plain URLs, or NDJSON objects `{ "url", "method"?, "headers"?, "body"? }`.
 * A line that can't be used becomes a `BadLine` (reported in the output, the
 * run goes on), never an exception.
 */

import { headersProblem, methodProblem } from "./request-check.js";

export interface FetchRequest {
  readonly kind: "request";
  /** 1-based line number in the input: the key `--resume` uses. */
  readonly line: number;
  readonly url: URL;
  readonly method: string | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly body: string | undefined;
}

export interface BadLine {
  readonly kind: "bad";
  readonly line: number;
  readonly input: string;
  readonly error: string;
}

/**
 * Splits a byte/string stream into lines (LF or CRLF), lazily, a chunk at a
 * time: each batch holds the lines completed by one chunk of input, so a
 * 64 KiB read costs one await, not one per line.
 */
export async function* lineBatches(
  source: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of source) {
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    const batch: string[] = [];
    let start = 0;
    for (let nl = rest.indexOf("\n", start); nl !== -1; nl = rest.indexOf("\n", start)) {
      const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      batch.push(rest.slice(start, end));
      start = nl + 1;
    }
    rest = rest.slice(start);
    if (batch.length > 0) yield batch;
  }
  rest += decoder.decode();
  if (rest.length > 0) yield [rest.endsWith("\r") ? rest.slice(0, -1) : rest];
}

/** Splits a byte/string stream into lines (LF or CRLF), lazily, one at a time. */
export async function* lines(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  for await (const batch of lineBatches(source)) yield* batch;
}

/** Parses one input line; undefined for blank lines and `#` comments. */
export function parseLine(text: string, line: number): FetchRequest | BadLine | undefined {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return undefined;
  const bad = (error: string): BadLine => ({ kind: "bad", line, input: truncate(trimmed), error });
  if (trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return bad(`Invalid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "object" || value === null)
      return bad("Expected a JSON object with a url");
    const record = value as Record<string, unknown>;
    if (typeof record.url !== "string") return bad('Expected "url" to be a string');
    if (record.method !== undefined && typeof record.method !== "string")
      return bad('Expected "method" to be a string');
    if (record.body !== undefined && typeof record.body !== "string")
      return bad('Expected "body" to be a string');
    const headers = record.headers;
    if (
      headers !== undefined &&
      (typeof headers !== "object" || headers === null || Array.isArray(headers))
    ) {
      return bad('Expected "headers" to be an object of strings');
    }
    if (headers !== undefined && Object.values(headers).some((v) => typeof v !== "string")) {
      return bad('Expected "headers" to be an object of strings');
    }
    const url = parseUrl(record.url);
    if (typeof url === "string") return bad(url);
    const method = record.method?.toUpperCase();
    const names =
      headers === undefined ? undefined : lowerCaseNames(headers as Record<string, string>);
    // Refused here, not by undici: see request-check.ts.
    const problem =
      (method === undefined ? undefined : methodProblem(method)) ??
      (names === undefined ? undefined : headersProblem(names));
    if (problem !== undefined) return bad(problem);
    return { kind: "request", line, url, method, headers: names, body: record.body };
  }
  const url = parseUrl(trimmed);
  if (typeof url === "string") return bad(url);
  return { kind: "request", line, url, method: undefined, headers: undefined, body: undefined };
}

/** Every request of the input, in order, with line numbers, a chunk of input at a time. */
export async function* readRequestBatches(
  source: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<(FetchRequest | BadLine)[]> {
  let n = 0;
  for await (const texts of lineBatches(source)) {
    const batch: (FetchRequest | BadLine)[] = [];
    for (const text of texts) {
      n++;
      const parsed = parseLine(text, n);
      if (parsed !== undefined) batch.push(parsed);
    }
    if (batch.length > 0) yield batch;
  }
}

/** Every request of the input, in order, with line numbers. */
export async function* readRequests(
  source: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<FetchRequest | BadLine> {
  for await (const batch of readRequestBatches(source)) yield* batch;
}

function parseUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `Invalid URL: ${truncate(text)}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `Unsupported protocol ${url.protocol} (only http: and https:)`;
  }
  return url;
}

// Header names are case-insensitive; lower case lets a request's own headers override --header.
function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
