/**
 * `aiokit/testing`: deterministic time for tests of concurrent code.
 * @module aiokit/testing
 */
// The clock hooks: what a test (or a clock of your own) installs and reads.
export { type Clock, getClock, realClock, setClock, type TimerHandle } from "../clock.js";
export {
  VirtualClock,
  type VirtualClockOptions,
  waitIdle,
  withVirtualClock,
} from "./virtual-clock.js";
