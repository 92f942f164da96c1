/**
 * `--rate-per-host` across workers: a sliding-window log per host in Redis
 * (a sorted set of start times, on Redis's clock), so no host gets more than
 * `limit` starts in any sliding `interval`, whichever workers make them.
 */
import type { Redis } from "ioredis";
import { sleep } from "../../index.js";
import type { StartLimit } from "../fetch/requester.js";

/**
 * KEYS[1] the host's log; ARGV: limit, interval ms, a unique member.
 * Returns 0 when the start is taken, else the ms until one may be.
 */
const TAKE_START = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - interval)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], interval)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + interval - now + 1
`;

let member = 0;
const prefix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
  b.toString(16).padStart(2, "0"),
).join("");

/** A StartLimit of `limit` starts per sliding `interval` ms, shared by everyone using `key`. */
export function sharedRate(
  client: Redis,
  key: string,
  limit: number,
  interval: number,
): StartLimit {
  return {
    tryAcquire: () => false, // every start asks Redis
    async acquire({ signal }) {
      for (;;) {
        signal.throwIfAborted();
        const wait = Number(
          await client.eval(TAKE_START, 1, key, limit, interval, `${prefix}.${member++}`),
        );
        if (wait <= 0) return;
        await sleep(wait, { signal });
      }
    },
  };
}

/** --rate (starts per second) as a sliding window: per second, or one start per so many ms. */
export function windowOf(perSecond: number): { limit: number; interval: number } {
  return perSecond >= 1
    ? { limit: Math.round(perSecond), interval: 1000 }
    : { limit: 1, interval: Math.round(1000 / perSecond) };
}
