/**
 * The cost of watching the event loop while nothing blocks: the same
 * node:http server (each request an aiokit task) loaded with autocannon,
 * without the monitor, with monitorEventLoop(), and in the whole debug mode
 * (aiokit/node/register: monitor + task tracking with spawn stacks + the ps
 * socket). Each case is a server process plus a load process; the time is the
 * load's (40,000 requests over 32 connections). Target (issue 6): the monitor
 * under 2%.
 */
import { fileURLToPath } from "node:url";
import type { BenchSuite } from "../harness.js";

const load = fileURLToPath(new URL("../workers/http-load.js", import.meta.url));
const command = (mode: string) => () => [process.execPath, load, mode];

const suite: BenchSuite = {
  title: "HTTP server, 40k requests: event-loop monitor overhead",
  target: "monitor under 1.02× no monitor",
  cases: [
    { name: "no monitor", baseline: true, command: command("plain") },
    { name: "monitorEventLoop", command: command("monitor") },
    { name: "register (full debug mode)", command: command("register") },
  ],
};

export default suite;
