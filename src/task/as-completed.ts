import { addAbortListener } from "../_internal/abort.js";
import { expectSignal } from "../_internal/describe.js";
import { Scope } from "../_internal/scope.js";
import { CancelledError } from "../errors.js";
import { type Awaitable, type AwaitedOf, toArray } from "./gather.js";
import { startItem } from "./start-item.js";

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Aborting it cancels everything still running; the loop then throws its reason. */
  readonly signal?: AbortSignal | undefined;
}

interface Outcome {
  readonly ok: boolean;
  readonly value: unknown;
}

/**
 * Runs task functions (and awaits promises) concurrently and yields their
 * results in the order they complete: `asyncio.as_completed` as an async
 * iterable. The work starts when the loop starts. A failure is thrown from the
 * loop at its turn; leaving the loop early (`break`, `return`, a throw)
 * cancels whatever is still running and waits for it before the loop exits.
 *
 * Warning: plain promises cannot be cancelled; they are awaited like the
 * rest, so a promise that never settles keeps the call from returning. Pass
 * task functions, which get the signal.
 *
 * @example
 * ```ts
 * import { asCompleted } from "aiokit";
 * for await (const page of asCompleted(urls.map((url) => (signal) => fetchText(url, signal)))) {
 *   if (page.includes("needle")) break; // cancels the other fetches
 * }
 * ```
 */
export function asCompleted<const T extends readonly Awaitable<unknown>[] | []>(
  items: T,
  options?: AsCompletedOptions,
): AsyncGenerator<AwaitedOf<T[number]>, void, undefined>;
export function asCompleted<A extends Awaitable<unknown>>(
  items: Iterable<A>,
  options?: AsCompletedOptions,
): AsyncGenerator<AwaitedOf<A>, void, undefined>;
export async function* asCompleted(
  items: Iterable<Awaitable<unknown>>,
  options: AsCompletedOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const list = toArray(items, "asCompleted");
  expectSignal(options.signal);
  const outer = options.signal;
  if (outer?.aborted) throw outer.reason;
  const scope = new Scope(outer);
  const outcomes: Outcome[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  const push = (ok: boolean, value: unknown): void => {
    outcomes.push({ ok, value });
    scope.exit();
    wake?.();
  };
  // The parent aborting cancels the scope: wake the loop so it throws the parent's reason.
  addAbortListener(scope.signal, () => wake?.());
  try {
    // The count taken at the start: the caller's array may grow meanwhile.
    const total = list.length;
    for (let i = 0; i < total; i++) {
      scope.enter();
      startItem(list[i] as Awaitable<unknown>, scope.signal, push);
    }
    for (let yielded = 0; yielded < total; yielded++) {
      while (read === outcomes.length && !scope.parentAborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (scope.parentAborted) throw outer?.reason;
      const outcome = outcomes[read] as Outcome;
      outcomes[read++] = undefined as unknown as Outcome; // let it be collected
      if (!outcome.ok) throw outcome.value;
      yield outcome.value;
    }
  } finally {
    if (scope.running > 0)
      scope.cancel(new CancelledError("Cancelled because the asCompleted() loop ended early"));
    await scope.whenAll();
  }
}
