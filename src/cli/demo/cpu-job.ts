/** The demo's CPU-bound job: repeated sha256, run on the main thread or by toWorker. */
import { createHash } from "node:crypto";

/** Hashes `seed` `rounds` times; returns the hex digest. */
export function sha256Rounds(seed: string, rounds: number): string {
  let digest = seed;
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}
