/**
 * `aiokit/testing`: deterministic time for tests of concurrent code.
 * @module
 */
export {
  VirtualClock,
  type VirtualClockOptions,
  waitIdle,
  withVirtualClock,
} from "./virtual-clock.js";
