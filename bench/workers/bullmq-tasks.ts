// The bullmq benchmark's tasks, imported by its producer and its worker
// processes (a task crosses machines by name).
import { defineTask } from "../../src/bullmq/index.js";

/** One GET to the benchmark's local HTTP server. */
export const hit = defineTask("hit", async (url: string, { signal }) => {
  const response = await fetch(url, { signal });
  return (await response.text()).length;
});

/** Which worker process ran it: the warm-up checks every worker takes jobs. */
export const whoami = defineTask("whoami", async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return process.pid;
});
