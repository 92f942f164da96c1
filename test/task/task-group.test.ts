import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import {
  CancelledError,
  isCancellation,
  sleep,
  TaskGroup,
  TaskGroupError,
  taskGroup,
} from "../../src/index.js";
import { waitIdle, withVirtualClock } from "../../src/testing/index.js";

const auto = { autoAdvance: true } as const;

/** A task that waits for its signal and records that it saw the cancellation. */
function waitsForCancel(log: string[], name: string) {
  return async (signal: AbortSignal): Promise<never> => {
    try {
      await sleep(Number.POSITIVE_INFINITY, { signal });
    } finally {
      log.push(`${name} cancelled`);
    }
    throw new Error("unreachable");
  };
}

describe("taskGroup", () => {
  it("returns the body's value after every task has settled", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const value = await taskGroup(async (tg) => {
        tg.spawn(async (signal) => {
          await sleep(100, { signal });
          log.push("slow done");
        });
        tg.spawn(() => log.push("sync done"));
        return "body value";
      });
      assert.equal(value, "body value");
      assert.deepEqual(log, ["sync done", "slow done"]);
    }, auto);
  });

  it("a failing child cancels its siblings, waits for all, and rejects with every real error (rule 1)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const boom = new Error("boom");
      const later = new Error("cleanup failed");
      const error = await taskGroup(async (tg) => {
        tg.spawn(waitsForCancel(log, "a"));
        tg.spawn(async (signal) => {
          try {
            await sleep(1_000, { signal });
          } catch {
            await sleep(10); // slow cleanup, still awaited
            log.push("b cleaned");
            throw later;
          }
        });
        tg.spawn(async () => {
          await sleep(5);
          throw boom;
        });
      }).catch((e: unknown) => e);
      assert.ok(error instanceof TaskGroupError);
      assert.ok(error instanceof AggregateError);
      assert.deepEqual(error.errors, [boom, later]);
      assert.deepEqual(log, ["a cancelled", "b cleaned"]);
      assert.match(error.message, /2 errors: boom/);
    }, auto);
  });

  it("a failing body cancels the children and is reported in the group's errors", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const boom = new Error("body failed");
      await assert.rejects(
        taskGroup(async (tg) => {
          tg.spawn(waitsForCancel(log, "child"));
          await sleep(1);
          throw boom;
        }),
        (error) =>
          error instanceof TaskGroupError && error.errors.length === 1 && error.errors[0] === boom,
      );
      assert.deepEqual(log, ["child cancelled"]);
    }, auto);
  });

  it("a body cut short by a cancellation that is not the group's still cancels the children", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const error = await taskGroup(async (tg) => {
        tg.spawn(async (signal) => {
          try {
            await sleep(10_000, { signal });
            log.push("sibling finished");
          } catch {
            log.push("sibling cancelled");
          }
        });
        const victim = tg.spawn((signal) => sleep(1_000, { signal }));
        victim.cancel();
        await victim; // rejects with the victim's cancellation
      }).catch((e: unknown) => e);
      assert.ok(isCancellation(error));
      assert.ok(!(error instanceof TaskGroupError));
      assert.deepEqual(log, ["sibling cancelled"]);
    }, auto);
  });

  it("a synchronous throw from a task or the body is a failure, not a crash", async () => {
    const boom = new Error("sync");
    await assert.rejects(
      taskGroup((tg) => {
        tg.spawn(() => {
          throw boom;
        });
      }),
      (error) => error instanceof TaskGroupError && error.errors[0] === boom,
    );
    await assert.rejects(
      taskGroup(() => {
        throw boom;
      }),
      (error) => error instanceof TaskGroupError && error.errors[0] === boom,
    );
  });

  it("a task returning a thenable whose then throws fails, instead of throwing from spawn and hanging", async () => {
    const thrown = new Error("then threw");
    const fromGetter = new Error("then getter threw");
    const error = await taskGroup((tg) => {
      const task = tg.spawn(() => ({
        then() {
          throw thrown;
        },
      }));
      assert.equal(task.state, "rejected");
    }).catch((e: unknown) => e);
    assert.ok(error instanceof TaskGroupError);
    assert.deepEqual(error.errors, [thrown]);
    const error2 = await taskGroup((tg) => {
      tg.spawn(() => ({
        get then(): never {
          throw fromGetter;
        },
      }));
    }).catch((e: unknown) => e);
    assert.ok(error2 instanceof TaskGroupError);
    assert.deepEqual(error2.errors, [fromGetter]);
  });

  it("a thenable that calls back twice settles its task once, with the first outcome", async () => {
    const tg = new TaskGroup();
    const task = tg.spawn(
      () =>
        ({
          then(resolve: (value: number) => void, reject: (error: unknown) => void) {
            resolve(1);
            resolve(2);
            reject(new Error("late"));
          },
        }) as unknown as PromiseLike<number>,
    );
    await tg.join();
    assert.equal(await task, 1);
  });

  it("never settles while a child is pending, even one that ignores its signal (rule 2)", async () => {
    await withVirtualClock(async (clock) => {
      let settled = false;
      let stubbornDone = false;
      const group = taskGroup(async (tg) => {
        tg.spawn(async () => {
          await sleep(1_000); // ignores cancellation
          stubbornDone = true;
        });
        tg.spawn(() => Promise.reject(new Error("fail")));
      }).then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      await clock.advance(999);
      assert.equal(settled, false);
      await clock.advance(1);
      await group;
      assert.equal(stubbornDone, true);
      assert.equal(settled, true);
    });
  });

  it("an outer signal abort cancels every child and rejects with the abort reason (rule 3)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const controller = new AbortController();
      const reason = new Error("user quit");
      const group = taskGroup(
        async (tg) => {
          tg.spawn(waitsForCancel(log, "a"));
          tg.spawn(waitsForCancel(log, "b"));
          await sleep(Number.POSITIVE_INFINITY, { signal: tg.signal });
        },
        { signal: controller.signal },
      );
      await waitIdle();
      controller.abort(reason);
      await assert.rejects(group, (error) => error === reason);
      assert.deepEqual(log.sort(), ["a cancelled", "b cancelled"]);
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    }, auto);
  });

  it("rejects at once for an already aborted signal, without running the body", async () => {
    let ran = false;
    await assert.rejects(
      taskGroup(
        () => {
          ran = true;
        },
        { signal: AbortSignal.abort("gone") },
      ),
      (error) => error === "gone",
    );
    assert.equal(ran, false);
  });

  it("does not finish while a task spawned just after the last one settled is pending (rule 2)", async () => {
    await withVirtualClock(async () => {
      const tg = new TaskGroup();
      let lateDone = false;
      const first = tg.spawn(async () => 1);
      // Runs after `first` settled but before join() got to look again.
      void first.then(() =>
        tg.spawn(async () => {
          await sleep(10);
          lateDone = true;
        }),
      );
      await tg.join();
      assert.equal(lateDone, true);
      assert.equal(tg.activeCount, 0);
      assert.equal(tg.pendingCount, 0, "the deprecated alias reads the same count");
    }, auto);
  });

  it("spawn after the group finished throws an error that names the group (rule 4)", async () => {
    let saved: TaskGroup | undefined;
    await taskGroup(
      (tg) => {
        saved = tg;
      },
      { name: "jobs" },
    );
    assert.throws(() => saved?.spawn(() => 1), {
      message: /task group "jobs": the group has finished/,
    });
  });

  it("children may spawn more tasks while the group waits for them", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      await taskGroup((tg) => {
        tg.spawn(async () => {
          await sleep(10);
          tg.spawn(async () => {
            await sleep(10);
            log.push("grandchild");
          });
        });
      });
      assert.deepEqual(log, ["grandchild"]);
    }, auto);
  });

  it("cancelling the outer group cancels a nested group (rule 4)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      await taskGroup(async (outer) => {
        outer.spawn((signal) =>
          taskGroup(
            (inner) => {
              inner.spawn(waitsForCancel(log, "inner child"));
            },
            { signal },
          ),
        );
        await sleep(10);
        outer.cancel();
      });
      assert.deepEqual(log, ["inner child cancelled"]);
    }, auto);
  });

  it("a failure in a nested group fails the outer group with the nested TaskGroupError", async () => {
    const boom = new Error("deep");
    const error = await taskGroup((outer) => {
      outer.spawn((signal) =>
        taskGroup(
          (inner) => {
            inner.spawn(() => Promise.reject(boom));
          },
          { signal },
        ),
      );
    }).catch((e: unknown) => e);
    assert.ok(error instanceof TaskGroupError);
    const nested = error.errors[0];
    assert.ok(nested instanceof TaskGroupError);
    assert.equal(nested.errors[0], boom);
  });

  it("task.cancel() does not fail the group; awaiting the task rejects with a cancellation (rule 5)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      await taskGroup(async (tg) => {
        const victim = tg.spawn(waitsForCancel(log, "victim"), { name: "victim" });
        const survivor = tg.spawn(async (signal) => {
          await sleep(50, { signal });
          return "survived";
        });
        await sleep(10);
        victim.cancel();
        await assert.rejects(victim, (error) => isCancellation(error));
        assert.equal(victim.state, "cancelled");
        assert.equal(await survivor, "survived");
        assert.equal(survivor.state, "fulfilled");
      });
      assert.deepEqual(log, ["victim cancelled"]);
    }, auto);
  });

  it("task.cancel(reason) aborts with that reason, and a task rejecting with it counts as cancelled", async () => {
    await withVirtualClock(async () => {
      const reason = new Error("custom reason");
      await taskGroup(async (tg) => {
        const task = tg.spawn((signal) => sleep(1_000, { signal }));
        task.cancel(reason);
        assert.equal(task.signal.reason, reason);
        await assert.rejects(task, (error) => error === reason);
        assert.equal(task.state, "cancelled");
      });
    }, auto);
  });

  it("tg.cancel() is a clean early exit: every child is cancelled and the group resolves (rule 5)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      const value = await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) tg.spawn(waitsForCancel(log, name));
        tg.spawn(async () => {
          await sleep(100);
          tg.cancel();
        });
        return 42;
      });
      assert.equal(value, 42);
      assert.deepEqual(log.sort(), ["a cancelled", "b cancelled", "c cancelled"]);
    }, auto);
  });

  it("tg.cancel() reaches every task even when one settles synchronously on its abort", async () => {
    await taskGroup((tg) => {
      const signals: AbortSignal[] = [];
      for (let i = 0; i < 3; i++) {
        tg.spawn((signal) => {
          signals.push(signal);
          // A thenable that rejects from inside the abort listener, synchronously.
          return {
            then(_: unknown, reject: (error: unknown) => void) {
              signal.addEventListener("abort", () => reject(signal.reason));
            },
          } as PromiseLike<never>;
        });
      }
      tg.cancel();
      assert.deepEqual(
        signals.map((signal) => signal.aborted),
        [true, true, true],
      );
    });
  });

  it("tg.cancel() and cancel() are idempotent, and spawning into a cancelled group returns a cancelled task", async () => {
    let calls = 0;
    await taskGroup(async (tg) => {
      tg.cancel();
      tg.cancel("ignored");
      assert.ok(isCancellation(tg.signal.reason));
      const late = tg.spawn(() => {
        calls++;
      });
      assert.equal(late.state, "cancelled");
      await assert.rejects(late, (error) => isCancellation(error));
    });
    assert.equal(calls, 0);
  });

  it("rethrows the cancellation when tg.cancel() cut the body itself short", async () => {
    await withVirtualClock(async () => {
      await assert.rejects(
        taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(10);
            tg.cancel();
          });
          await sleep(1_000, { signal: tg.signal });
          return "never";
        }),
        (error) => isCancellation(error),
      );
    }, auto);
  });

  it("reports a failure only once, through the group: no unhandled rejection (rule 6)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      await assert.rejects(
        taskGroup((tg) => {
          tg.spawn(() => Promise.reject(new Error("a")));
          const b = tg.spawn(async () => {
            throw new Error("b");
          });
          void b; // a task nobody awaits
          tg.spawn(() => Promise.reject(new Error("c")));
        }),
        TaskGroupError,
      );
      await new Promise((resolve) => setTimeout(resolve, 5)); // unhandledRejection fires on a later turn
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("a failure rethrown by the body or a sibling that awaited the failed task is reported once (rule 6)", async () => {
    const boom = new Error("boom");
    const fromBody = await taskGroup(async (tg) => {
      const task = tg.spawn(async () => {
        throw boom;
      });
      await task;
    }).catch((e: unknown) => e);
    assert.ok(fromBody instanceof TaskGroupError);
    assert.deepEqual(fromBody.errors, [boom]);

    const fromSibling = await taskGroup((tg) => {
      const task = tg.spawn(() => Promise.reject(boom));
      tg.spawn(async () => {
        await task;
      });
    }).catch((e: unknown) => e);
    assert.ok(fromSibling instanceof TaskGroupError);
    assert.deepEqual(fromSibling.errors, [boom]);

    // Distinct failures still each count, primitives included.
    const distinct = await taskGroup((tg) => {
      tg.spawn(() => Promise.reject("same text"));
      tg.spawn(() => Promise.reject("same text"));
    }).catch((e: unknown) => e);
    assert.ok(distinct instanceof TaskGroupError);
    assert.deepEqual(distinct.errors, ["same text", "same text"]);
  });

  it("cancellations of children are not errors", async () => {
    await withVirtualClock(async () => {
      const error = await taskGroup(async (tg) => {
        tg.spawn((signal) => sleep(1_000, { signal }));
        tg.spawn(async () => {
          throw new CancelledError("a child that was cancelled by someone else");
        });
        tg.spawn(async () => {
          await sleep(1);
          throw new Error("real");
        });
      }).catch((e: unknown) => e);
      assert.ok(error instanceof TaskGroupError);
      assert.deepEqual(
        error.errors.map((e) => (e as Error).message),
        ["real"],
      );
    }, auto);
  });

  it("a task function with no parameter shares the group's signal; one with a parameter gets its own", async () => {
    await taskGroup(async (tg) => {
      let seen: AbortSignal | undefined;
      const withParam = tg.spawn((signal) => {
        seen = signal;
      });
      await withParam;
      assert.notEqual(seen, tg.signal);
      assert.equal(seen, withParam.signal);
    });
  });

  it("task.signal created late still sees the group's cancellation", async () => {
    await withVirtualClock(async () => {
      await taskGroup(async (tg) => {
        const task = tg.spawn(() => sleep(100));
        const signal = task.signal; // created after start
        assert.equal(signal.aborted, false);
        tg.cancel("stop");
        assert.equal(signal.aborted, true);
        assert.equal(signal.reason, "stop");
      });
    }, auto);
  });

  it("tasks have names, ids, states and informative strings", async () => {
    await withVirtualClock(async () => {
      await taskGroup(
        async (tg) => {
          const named = tg.spawn(() => sleep(1), { name: "fetch user" });
          const unnamed = tg.spawn(() => 1);
          assert.equal(named.name, "fetch user");
          assert.match(unnamed.name, /^Task-\d+$/);
          assert.ok(unnamed.id > 0);
          assert.equal(named.state, "pending");
          assert.equal(String(named), '<Task "fetch user" pending>');
          assert.match(String(tg), /<TaskGroup "g" open tasks=1 errors=0>/);
          await named;
          assert.equal(named.state, "fulfilled");
        },
        { name: "g" },
      );
    }, auto);
  });

  it("removes its listener from a long-lived outer signal when it finishes", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1_000; i++) {
      await taskGroup(
        (tg) => {
          tg.spawn(() => 1);
        },
        { signal: controller.signal },
      );
    }
    assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  });

  it("rejects non-function tasks and bodies with a TypeError", async () => {
    await assert.rejects(taskGroup(42 as never), {
      name: "TypeError",
      message: /body.*42 \(number\)/,
    });
    await taskGroup((tg) => {
      assert.throws(() => tg.spawn("x" as never), { name: "TypeError", message: /task/ });
    });
  });
});

describe("TaskGroup with await using", () => {
  it("waits for every task at the end of the block (compiled down for Node 20)", async () => {
    await withVirtualClock(async () => {
      const log: string[] = [];
      {
        await using tg = new TaskGroup();
        tg.spawn(async () => {
          await sleep(100);
          log.push("task done");
        });
        log.push("block done");
      }
      log.push("after block");
      assert.deepEqual(log, ["block done", "task done", "after block"]);
    }, auto);
  });

  it("throws TaskGroupError at the end of the block when a task failed", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      (async () => {
        await using tg = new TaskGroup();
        tg.spawn(() => Promise.reject(boom));
      })(),
      (error) => error instanceof TaskGroupError && error.errors[0] === boom,
    );
  });

  it("when the block throws, waits for the children (not cancelled) before the error propagates", async () => {
    await withVirtualClock(async () => {
      const blockError = new Error("block failed");
      let childFinished = false;
      const error = await (async () => {
        await using tg = new TaskGroup();
        tg.spawn(async () => {
          await sleep(10);
          childFinished = true;
        });
        throw blockError;
      })().catch((e: unknown) => e);
      assert.equal(childFinished, true);
      assert.equal(error, blockError);
    }, auto);
  });

  it("activeCount counts the running tasks; the deprecated pendingCount reads the same", async () => {
    const tg = new TaskGroup();
    const release: Array<() => void> = [];
    const wait = () => new Promise<void>((resolve) => release.push(resolve));
    tg.spawn(wait);
    tg.spawn(wait);
    tg.spawn(() => 1); // settles synchronously: never counted as running once spawn returns
    assert.deepEqual([tg.activeCount, tg.pendingCount, tg.spawnedCount], [2, 2, 3]);
    release[0]?.();
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual([tg.activeCount, tg.pendingCount], [1, 1]);
    release[1]?.();
    await tg.join();
    assert.deepEqual([tg.activeCount, tg.pendingCount], [0, 0]);
  });

  it("join() is idempotent and the group refuses new tasks afterwards", async () => {
    const tg = new TaskGroup({ name: "once" });
    tg.spawn(() => 1);
    const first = tg.join();
    assert.equal(tg.join(), first);
    await first;
    assert.equal(tg.state, "finished");
    assert.throws(() => tg.spawn(() => 2), /finished/);
  });
});
