/**
 * A `node --test` reporter for `npm run test:runtimes`: prints each failure
 * (name and error) as it happens, then one line `RESULT {...}` with the counts
 * per file, which the runner reads.
 */

interface TestEvent {
  readonly type: string;
  readonly data: {
    readonly name: string;
    readonly file?: string;
    readonly skip?: boolean | string;
    readonly todo?: boolean | string;
    readonly details?: { readonly type?: string; readonly error?: unknown };
  };
}

interface FileCounts {
  pass: number;
  fail: number;
  skip: number;
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  if (cause instanceof Error)
    return (cause.stack ?? cause.message).split("\n").slice(0, 8).join("\n      ");
  return String(cause);
}

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const files: Record<string, FileCounts> = {};
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    if (data.details?.type === "suite" && event.type === "test:pass") continue;
    const file = data.file ?? "?";
    files[file] ??= { pass: 0, fail: 0, skip: 0 };
    const counts = files[file];
    if (data.skip !== undefined || data.todo !== undefined) counts.skip++;
    else if (event.type === "test:pass") counts.pass++;
    else {
      // A failed suite is reported too (its hook failed or a test in it did): count tests only.
      if (data.details?.type === "suite") {
        const error = data.details.error as { failureType?: string } | undefined;
        if (error?.failureType === "subtestsFailed") continue;
      }
      counts.fail++;
      yield `  ✖ ${file}: ${data.name}\n      ${describeError(data.details?.error)}\n`;
    }
  }
  yield `RESULT ${JSON.stringify(files)}\n`;
}
