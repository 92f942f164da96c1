/**
 * The CPU-bound job of bench/suites/worker.ts: sha256 of a buffer, repeated
 * (each round hashes the buffer with the previous digest).
 */
import { createHash } from "node:crypto";

export function sha256(data: Uint8Array, rounds: number): string {
  let digest: Buffer = Buffer.alloc(0);
  for (let i = 0; i < rounds; i++)
    digest = createHash("sha256").update(digest).update(data).digest();
  return digest.toString("hex");
}

/** The same job as piscina's handler: one argument, default export. */
export default function job({ data, rounds }: { data: Uint8Array; rounds: number }): string {
  return sha256(data, rounds);
}
