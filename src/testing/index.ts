/**
 * `aiokit/testing`: deterministic time for tests of concurrent code.
 * @module aiokit/testing
 */
export {
  VirtualClock,
  type VirtualClockOptions,
  waitIdle,
  withVirtualClock,
} from "./virtual-clock.js";
