/** `aiokit demo`: what `npm start` runs — asyncio's workflows, measured, on a local server. */
import { type Style, styleFor } from "../style.js";
import { ExitCode, parseCommandLine } from "../usage.js";
import { decisionTree } from "./decision-tree.js";
import { startDemoServer } from "./server.js";
import { asyncStreams, concurrentTasks, resourceManagement } from "./workflows.js";

export const demoHelp = `Usage: aiokit demo [--json]

Starts an HTTP server on 127.0.0.1 (random port, 20 ms simulated latency) and walks through
asyncio's three workflows and its decision tree with aiokit, measuring each:
  1. concurrent tasks: 200 requests one by one, then with map() at concurrency 50
  2. resource management: a pool of keep-alive connections, one task fails, nothing leaks
  3. async streams: 1,000,000 records in flat memory vs materialized
  4. the decision tree: a blocking call caught with its stack; CPU work moved to a worker

Options:
  --json      print the figures as JSON instead of prose
  -h, --help  this help

Example:
  npm start            # = aiokit demo
  aiokit demo --json | jq .concurrency.speedup`;

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine("demo", {
    args: argv,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) {
    console.log(demoHelp);
    return ExitCode.ok;
  }
  const json = values.json === true;
  const style = styleFor(process.stdout);
  const say = json ? () => {} : (text = "") => console.log(text);
  const started = performance.now();
  const server = await startDemoServer(20);
  try {
    say(
      style.bold("aiokit demo") +
        style.dim(` — a local server at ${server.url}, 20 ms per request\n`),
    );

    say(style.cyan("1. Concurrent tasks"));
    const concurrency = await concurrentTasks(server);
    say(`   ${concurrency.requests} requests one by one:        ${ms(concurrency.sequentialMs)}`);
    say(
      `   the same with map(…, { concurrency: ${concurrency.concurrency} }): ${ms(concurrency.concurrentMs)}`,
    );
    say(
      `   ${style.green(`${concurrency.speedup.toFixed(1)}× faster`)}: IO waits overlap on one thread\n`,
    );

    say(style.cyan("2. Resource management"));
    const resources = await resourceManagement(server);
    say(
      `   ${resources.tasks} tasks share a Pool of ${resources.poolMax} keep-alive connections (await using conn = await pool.acquire())`,
    );
    say(
      `   one task failed (${resources.failure}); the group cancelled ${resources.cancelledSiblings} siblings and waited for them`,
    );
    say(
      `   the server saw ${resources.connectionsOpened} connections opened, at most ${resources.openWhileRunning} open at once`,
    );
    if (resources.connectionsOpened !== resources.created) {
      say(
        style.dim(
          "   (more than the pool's clients: a client whose request was cancelled closes that socket and opens a new one for its next request)",
        ),
      );
    }
    const leaked = resources.openAfterClose;
    say(
      `   after pool.close(): ${resources.created} created, ${resources.destroyed} destroyed, ` +
        (leaked === 0
          ? style.green("0 open on the server: none leaked")
          : style.red(`${leaked} still open`)) +
        "\n",
    );

    say(style.cyan("3. Async streams"));
    const streams = await asyncStreams();
    say(
      `   ${streams.records.toLocaleString("en")} records through stream(source).map(enrich).batch(1000): ${streams.batches} batches`,
    );
    say(
      `   streamed:     ${ms(streams.streamMs)}, heap grew at most ${mb(streams.streamPeakHeapMb)}`,
    );
    say(
      `   materialized: ${ms(streams.materializedMs)}, heap grew ${mb(streams.materializedPeakHeapMb)} (the whole data set at once)\n`,
    );

    say(style.cyan("4. The decision tree"));
    const tree = await decisionTree();
    printDecisionTree(tree, say, style);

    const totalMs = performance.now() - started;
    if (json) {
      console.log(
        JSON.stringify({ concurrency, resources, streams, decisionTree: tree, totalMs }, null, 2),
      );
    } else {
      say(style.dim(`done in ${ms(totalMs)}. Next: aiokit fetch --help, aiokit doctor --help`));
    }
    return leaked === 0 ? ExitCode.ok : ExitCode.failed;
  } finally {
    await server.close();
  }
}

function printDecisionTree(
  tree: Awaited<ReturnType<typeof decisionTree>>,
  say: (text?: string) => void,
  style: Style,
): void {
  const block = tree.blocking;
  if (block === undefined) say("   the blocking detector saw nothing (unexpected)");
  else {
    say(
      `   blocking: ${style.yellow(`the event loop was blocked for ${ms(block.durationMs)}`)}, caught while it was blocked:`,
    );
    // The top frames are often Node's own (inside crypto, fs): show the program's.
    const own = block.frames.filter((frame) => !frame.includes("(node:"));
    for (const frame of (own.length > 0 ? own : block.frames).slice(0, 3)) {
      say(style.dim(`     at ${frame}`));
    }
    say("   → replace the blocking call, or move the work off the loop:");
  }
  say(
    `   CPU-bound: ${tree.jobs} sha256 jobs on the main thread ${ms(tree.mainThreadMs)} (loop blocked), ` +
      `in toWorker() ${ms(tree.workerMs)} (loop free: ${tree.blockedDuringWorker ? style.red("blocked") : style.green("no reports")})`,
  );
  say("");
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

function mb(value: number): string {
  return `${value.toFixed(1)} MB`;
}
