/**
 * Ctrl-C (SIGINT) and SIGTERM for the whole `aiokit` command. main.ts
 * installs the handler before it loads any command: loading fetch takes
 * ~170 ms, and a signal in that window used to kill the process with no
 * message and no summary (issue 13). A signal received while loading is kept:
 * main.ts then stops with a message and 128 + the signal's number. Once a
 * command runs, one that listens for the signal itself (fetch, doctor)
 * handles it; for the others the default action is restored and the signal
 * re-raised, so they die of it as before.
 * @internal
 */

/** The stop signals the CLI handles. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** 128 + the signal's number, what shells report for a process a signal stopped: 130 or 143. */
export function exitCodeOf(signal: StopSignal): number {
  return signal === "SIGINT" ? 130 : 143;
}

let started = false;
let early: StopSignal | undefined;

function onStop(signal: StopSignal): void {
  if (!started) {
    early ??= signal;
    return;
  }
  if (process.listenerCount(signal) > 1) return; // the command handles it
  uninstall();
  process.kill(process.pid, signal);
}

function uninstall(): void {
  process.off("SIGINT", onStop);
  process.off("SIGTERM", onStop);
}

/** Installs the handler: the first thing main.ts does. */
export function installStopSignals(): void {
  process.on("SIGINT", onStop);
  process.on("SIGTERM", onStop);
}

/**
 * Called when the command module is loaded, just before it runs (in the same
 * turn, so no signal falls between): returns the signal received while
 * loading, if any (then the command must not run).
 */
export function commandStarting(): StopSignal | undefined {
  started = true;
  return early;
}
