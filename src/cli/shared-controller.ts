/**
 * An AbortController for a signal that reaches every request in flight.
 * @module
 */
import { setMaxListeners } from "node:events";

/**
 * A controller whose signal may carry any number of abort listeners. A signal
 * the CLI hands to each of `--concurrency` requests gets one listener per
 * request by design; past 10, Node would print "possible EventTarget memory
 * leak" on the user's terminal, a false alarm.
 */
export function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
