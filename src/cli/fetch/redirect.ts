/**
 * Following redirects as browsers and `curl -L` do (the fetch standard's
 * "HTTP-redirect fetch"): which request a 3xx response leads to.
 */

/** One request of a redirect chain. */
export interface Hop {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-location",
];
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * The request that a response with `status` and `location` redirects `hop`
 * to, or undefined when it is not a redirect to follow (not a 3xx redirect, no
 * Location, or a Location that is not an http(s) URL: that response is the
 * result). 303, and 301/302 after a POST, turn into a GET without the body;
 * credentials are not sent to another origin.
 */
export function nextHop(
  hop: Hop,
  status: number,
  location: string | string[] | undefined,
): Hop | undefined {
  const target = Array.isArray(location) ? location[0] : location;
  if (!REDIRECTS.has(status) || target === undefined || target === "") return undefined;
  let url: URL;
  try {
    url = new URL(target, hop.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const toGet =
    (status === 303 && hop.method !== "GET" && hop.method !== "HEAD") ||
    ((status === 301 || status === 302) && hop.method === "POST");
  const dropped = [
    ...(toGet ? BODY_HEADERS : []),
    ...(url.origin !== hop.url.origin ? CREDENTIAL_HEADERS : []),
  ];
  let headers = hop.headers;
  if (dropped.length > 0) {
    headers = { ...hop.headers };
    for (const name of dropped) delete (headers as Record<string, string>)[name];
  }
  return {
    url,
    method: toGet ? "GET" : hop.method,
    headers,
    body: toGet ? undefined : hop.body,
  };
}
