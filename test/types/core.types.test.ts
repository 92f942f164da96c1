/**
 * Type-level tests: this file must compile (it is part of `npm run compile`).
 * `@ts-expect-error` lines must stay errors, so wrong inference fails the build.
 */
import { it } from "node:test";
import {
  asCompleted,
  gather,
  moveOnAfter,
  race,
  type Task,
  taskGroup,
  timeout,
} from "../../src/index.js";

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

it("types infer (compile-time checks)", async () => {
  // gather: a tuple in, a tuple out; functions and promises mixed.
  const tuple = await gather([() => 1, async () => "s", Promise.resolve(true)]);
  expectType<Equal<typeof tuple, [number, string, boolean]>>(true);
  const settled = await gather([() => 1, async () => "s"], { settle: true });
  expectType<Equal<typeof settled, [PromiseSettledResult<number>, PromiseSettledResult<string>]>>(
    true,
  );
  const fns: Iterable<() => number> = new Set([() => 1]);
  const list = await gather(fns);
  expectType<Equal<typeof list, number[]>>(true);

  // spawn returns a Task of the awaited value.
  const value = await taskGroup((tg) => {
    const t = tg.spawn(async () => 5);
    expectType<Equal<typeof t, Task<number>>>(true);
    return "done" as const;
  });
  expectType<Equal<typeof value, "done">>(true);

  const winner = await race([async () => 1, async () => "x"]);
  expectType<Equal<typeof winner, number | string>>(true);
  for await (const v of asCompleted([async () => 1, () => "x"]))
    expectType<Equal<typeof v, number | string>>(true);

  const t = await timeout(10, async () => 1);
  expectType<Equal<typeof t, number>>(true);
  const m = await moveOnAfter(10, async () => 1);
  expectType<Equal<typeof m, number | undefined>>(true);

  // @ts-expect-error a task function gets an AbortSignal, not a number
  await taskGroup((tg) => tg.spawn((n: number) => n));
  // @ts-expect-error timeout needs a duration
  await timeout(async () => 1).catch(() => {});
});
