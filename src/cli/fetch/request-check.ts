/**
 * What undici refuses to send, checked before it is asked to: an invalid
 * method or header. undici refuses such a request synchronously, and each
 * refusal leaves one connection slot of its pool waiting for a "drain" that
 * never comes (undici 7.30): past `connections` refusals the pool takes no
 * more requests and the run never ends. So a bad method or header is bad
 * input, said in the record (or on the command line), and never sent.
 */

/** RFC 9110 token: what a method and a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters a header value may not hold (NUL, CR, LF and other controls but tab). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers the HTTP client manages itself; undici refuses them. */
const MANAGED = new Set(["transfer-encoding", "keep-alive", "upgrade", "expect"]);

/** Why `method` can't be sent, or undefined when it can. */
export function methodProblem(method: string): string | undefined {
  if (!TOKEN.test(method)) {
    return `Invalid method ${JSON.stringify(method)}: a method is one word of letters, digits and !#$%&'*+-.^_\`|~`;
  }
  if (method === "CONNECT")
    return "Unsupported method CONNECT: it opens a tunnel, it does not fetch";
  return undefined;
}

/** Why `headers` can't be sent, or undefined when they can. */
export function headersProblem(headers: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) {
      return `Invalid header name ${JSON.stringify(name)}: a name is one word of letters, digits and !#$%&'*+-.^_\`|~`;
    }
    const lower = name.toLowerCase();
    if (BAD_VALUE.test(value)) {
      return `Invalid value of header ${JSON.stringify(name)}: no line breaks or control characters`;
    }
    if (MANAGED.has(lower)) {
      return `Header ${JSON.stringify(name)} can't be set: the HTTP client manages it`;
    }
    if (lower === "content-length" && !/^\d+$/.test(value)) {
      return `Invalid content-length ${JSON.stringify(value)}: expected a number of bytes`;
    }
    if (lower === "connection" && !value.split(",").every((t) => TOKEN.test(t.trim()))) {
      return `Invalid connection header ${JSON.stringify(value)}: expected tokens like close or keep-alive`;
    }
  }
  return undefined;
}
