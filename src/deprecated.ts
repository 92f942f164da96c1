/**
 * Names that moved out of the main entry, kept there as aliases for one minor
 * version: they go in 0.3.0. Each alias is the same value or type as its new
 * home's, so mixing old and new imports works.
 * @module
 */
import * as clock from "./clock.js";

/**
 * What aiokit needs from a clock.
 * @deprecated Import it from `aiokit/testing` (a test hook, not application
 * API); this alias in `aiokit` goes in 0.3.0.
 */
export type Clock = clock.Clock;

/**
 * An opaque handle to a scheduled timer.
 * @deprecated Import it from `aiokit/testing`; this alias in `aiokit` goes in 0.3.0.
 */
export type TimerHandle = clock.TimerHandle;

/**
 * The clock aiokit uses now.
 * @deprecated Import it from `aiokit/testing`; this alias in `aiokit` goes in 0.3.0.
 *
 * @example
 * ```ts
 * import { getClock } from "aiokit/testing";
 * const started = getClock().now();
 * ```
 */
export const getClock: () => clock.Clock = clock.getClock;

/**
 * Replaces aiokit's clock and returns the previous one.
 * @deprecated Import it from `aiokit/testing`; this alias in `aiokit` goes in 0.3.0.
 *
 * @example
 * ```ts
 * import { realClock, setClock } from "aiokit/testing";
 * setClock(setClock(realClock));
 * ```
 */
export const setClock: (next: clock.Clock) => clock.Clock = clock.setClock;

/**
 * The real clock.
 * @deprecated Import it from `aiokit/testing`; this alias in `aiokit` goes in 0.3.0.
 *
 * @example
 * ```ts
 * import { realClock } from "aiokit/testing";
 * console.log(realClock.now() > 0);
 * ```
 */
export const realClock: clock.Clock = clock.realClock;
