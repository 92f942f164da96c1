// The optional peer dependencies, loaded once with a clear error when missing:
// the core and aiokit/node never import them, only this subpath does.
import type * as BullMQ from "bullmq";
import type * as IORedis from "ioredis";

function missing(error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
    throw new Error(
      "Cannot load aiokit/bullmq: it needs its optional peer dependencies bullmq and ioredis; install them with `npm install bullmq ioredis`",
      { cause: error },
    );
  }
  throw error;
}

/** The `bullmq` module. */
export const bullmq: typeof BullMQ = await import("bullmq").catch(missing);
/** The `ioredis` module. */
export const ioredis: typeof IORedis = await import("ioredis").catch(missing);
