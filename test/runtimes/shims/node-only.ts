/**
 * Stand-in for a Node module a runtime lacks (`node:stream` in the browser):
 * every export throws {@link NodeOnlyError} when used, so a test that needs it
 * is counted as skipped (under the module's name), not failed. The bundler
 * (see `bundle.ts`) makes one such module per missing Node module.
 */
import { NodeOnlyError } from "./test.js";

/** A value that throws `NodeOnlyError(module)` when called, constructed or read from. */
export function stubModule(module: string): unknown {
  const unavailable = (): never => {
    throw new NodeOnlyError(module);
  };
  const stub: unknown = new Proxy(unavailable, {
    get: (_target, key) => (key === "__esModule" ? false : stub),
    apply: unavailable,
    construct: unavailable,
  });
  return stub;
}
