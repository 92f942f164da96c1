import { expectSignal } from "../_internal/describe.js";
import { Scope } from "../_internal/scope.js";
import { CancelledError } from "../errors.js";
import { type Awaitable, type AwaitedOf, toArray } from "./gather.js";
import { startItem } from "./start-item.js";

/** Options of {@link race}. */
export interface RaceOptions {
  /** Aborting it cancels every contender; race then rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs contenders concurrently; the first to settle (fulfil or reject) wins.
 * Unlike `Promise.race`, the losers are cancelled (their shared signal is
 * aborted) and awaited before `race` returns, so nothing keeps running in the
 * background.
 *
 * Warning: plain promises cannot be cancelled; they are awaited like the
 * rest, so a promise that never settles keeps the call from returning. Pass
 * task functions, which get the signal.
 *
 * @example
 * ```ts no-run: fetches from the network
 * import { race } from "aiokit";
 * const fastest = await race([
 *   (signal) => fetch("https://mirror-a.example/file", { signal }),
 *   (signal) => fetch("https://mirror-b.example/file", { signal }),
 * ]);
 * ```
 */
export function race<const T extends readonly Awaitable<unknown>[] | []>(
  items: T,
  options?: RaceOptions,
): Promise<AwaitedOf<T[number]>>;
export function race<A extends Awaitable<unknown>>(
  items: Iterable<A>,
  options?: RaceOptions,
): Promise<AwaitedOf<A>>;
export async function race(
  items: Iterable<Awaitable<unknown>>,
  options: RaceOptions = {},
): Promise<unknown> {
  const list = toArray(items, "race");
  expectSignal(options.signal);
  if (list.length === 0)
    throw new TypeError("race() needs at least one item: with none, nothing could ever win");
  const outer = options.signal;
  if (outer?.aborted) throw outer.reason;
  const scope = new Scope(outer);
  let winner: { ok: boolean; value: unknown } | undefined;
  const settle = (ok: boolean, value: unknown): void => {
    if (winner === undefined && !scope.cancelled) {
      winner = { ok, value };
      scope.cancel(
        new CancelledError("Cancelled because another contender of race() settled first"),
      );
    }
    scope.exit();
  };
  // The count taken at the call: a contender may push more into the caller's array.
  const total = list.length;
  for (let i = 0; i < total; i++) {
    scope.enter();
    startItem(list[i] as Awaitable<unknown>, scope.signal, settle);
  }
  await scope.whenAll();
  if (winner === undefined) throw outer?.reason;
  if (!winner.ok) throw winner.value;
  return winner.value;
}
