/**
 * Compiles and runs the examples of the documentation, so that none can rot (as
 * Deno std does with `deno test --doc`). Every ```ts block of a TSDoc comment in
 * src/, of README.md and of docs/*.md becomes a module; all of them are
 * type-checked in one tsc program against the built package (`import … from
 * "aiokit"` resolves to dist/, as it does for a user), with the TypeScript
 * settings the README asks users for. Then every example that is self-contained
 * is run in a fresh Node process and must exit 0: an unhandled rejection, a
 * throw or a top-level await that never settles fails the check.
 *
 * An example that uses a user's own names (`url`, `db`, `getJson`) is
 * type-checked against the ambient declarations of scripts/examples-prelude.ts
 * and not run. Two fence tags opt out, each with a reason the check prints:
 * ```ts no-run: <why>   type-checked, not run (a network, a loop that never ends)
 * ```ts ignore: <why>   not compiled at all (a package aiokit does not install)
 *
 * Run by `npm test` (npm run docs:check); `node .build/scripts/check-examples.js`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { map } from "../src/index.js";
import { prelude, support } from "./examples-prelude.js";

/** One fenced ```ts block, and where it was found. */
export interface Snippet {
  /** The file, relative to the root. */
  readonly file: string;
  /** 1-based line of the first line of code (the one after the fence). */
  readonly line: number;
  readonly code: string;
  readonly tag?: { readonly name: "no-run" | "ignore"; readonly reason: string };
}

export interface CheckOptions {
  /** The package root: examples import "aiokit" from there (its package.json name). */
  readonly root: string;
  /** Markdown and TypeScript files whose examples to check, relative to root or absolute. */
  readonly files: readonly string[];
  /** Where the generated modules go; must be inside root, is emptied first. */
  readonly outDir: string;
  /** Processes run at once (default 2). */
  readonly concurrency?: number;
}

export interface CheckReport {
  /** Every snippet found, whatever became of it. */
  readonly total: number;
  readonly problems: string[];
  readonly ran: Snippet[];
  /** Type-checked and not run: they use the prelude's names. */
  readonly typeChecked: { readonly snippet: Snippet; readonly names: string[] }[];
  readonly optedOut: Snippet[];
}

const fenceOpen = /^(\s*)```(?:ts|typescript)(?:\s+(.*))?$/;
const fenceClose = /^\s*```\s*$/;
const tagPattern = /^(no-run|ignore)\s*:\s*(\S.*)$/;

/** The ```ts blocks of a run of markdown lines, the first of which is line `first` (1-based). */
function fences(file: string, lines: string[], first: number, problems: string[]): Snippet[] {
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fenceOpen.exec(lines[i] ?? "");
    if (open === null) continue;
    const indent = open[1]?.length ?? 0;
    const info = open[2]?.trim() ?? "";
    const start = i + 1;
    while (i + 1 < lines.length && !fenceClose.test(lines[i + 1] ?? "")) i++;
    if (i + 1 >= lines.length) {
      problems.push(`${file}:${first + start - 1}: a \`\`\`ts block is never closed`);
      break;
    }
    const code = lines
      .slice(start, i + 1)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join("\n");
    i++; // the closing fence
    const where = `${file}:${first + start}`;
    if (info === "") {
      found.push({ file, line: first + start, code });
      continue;
    }
    const tag = tagPattern.exec(info);
    if (tag === null) {
      problems.push(
        `${where}: unknown fence tag "${info}": write \`ts no-run: <why>\` or \`ts ignore: <why>\``,
      );
      continue;
    }
    const name = tag[1] as "no-run" | "ignore";
    found.push({ file, line: first + start, code, tag: { name, reason: tag[2] ?? "" } });
  }
  return found;
}

/** The ```ts blocks of every `/** … *\/` comment of a TypeScript file. */
function tsdocSnippets(file: string, text: string, problems: string[]): Snippet[] {
  const found: Snippet[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const first = text.slice(0, comment.index).split("\n").length;
    const lines = comment[0]
      .split("\n")
      .map((l) => l.replace(/^\s*(?:\/\*\*|\*\/|\*(?!\/) ?)/, ""));
    found.push(...fences(file, lines, first, problems));
  }
  return found;
}

/** Every snippet of `files`, in order. */
export function extract(root: string, files: readonly string[], problems: string[]): Snippet[] {
  return files.flatMap((path) => {
    const file = relative(root, resolve(root, path));
    const text = readFileSync(resolve(root, path), "utf8");
    return file.endsWith(".md")
      ? fences(file, text.split("\n"), 1, problems)
      : tsdocSnippets(file, text, problems);
  });
}

/** The settings the README gives users: ES2022 output (Node 20 runs it), `await using` typed. */
function compilerOptions(root: string, outDir: string): ts.CompilerOptions {
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    {
      target: "ES2022",
      lib: ["ES2023", "ESNext.Disposable"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      strict: true,
      skipLibCheck: true,
      rootDir: outDir,
      outDir,
    },
    root,
  );
  if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, formatHost(root)));
  return options;
}

function formatHost(root: string): ts.FormatDiagnosticsHost {
  return {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  };
}

/** The names a file declares at its top level. */
function topLevelNames(source: ts.SourceFile | undefined): string[] {
  return (source?.statements ?? []).flatMap((statement) => {
    if (ts.isVariableStatement(statement)) {
      return statement.declarationList.declarations.flatMap((d) =>
        ts.isIdentifier(d.name) ? [d.name.text] : [],
      );
    }
    const name = (statement as { name?: ts.Node }).name;
    return name !== undefined && ts.isIdentifier(name) ? [name.text] : [];
  });
}

/** The names a snippet uses that only the prelude declares. */
function preludeNames(source: ts.SourceFile, checker: ts.TypeChecker, prelude: ts.SourceFile) {
  const declared = new Set(topLevelNames(prelude));
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && declared.has(node.text)) {
      // `{ signal }` names a property; the value it reads is the shorthand's symbol.
      const symbol = ts.isShorthandPropertyAssignment(node.parent)
        ? checker.getShorthandAssignmentValueSymbol(node.parent)
        : checker.getSymbolAtLocation(node);
      if (symbol?.declarations?.some((d) => d.getSourceFile() === prelude)) names.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...names];
}

/** A prelude name that is also an aiokit export would hide a missing import. */
async function preludeShadows(root: string, source: ts.SourceFile | undefined): Promise<string[]> {
  const exported = new Set<string>();
  for (const entry of ["index.js", "node/index.js", "testing/index.js"]) {
    const module = (await import(pathToFileURL(join(root, "dist", entry)).href)) as object;
    for (const name of Object.keys(module)) exported.add(name);
  }
  return topLevelNames(source)
    .filter((name) => exported.has(name))
    .map((name) => `the examples' prelude declares ${name}, an aiokit export: import it instead`);
}

/** Runs one compiled example; resolves to a problem, or undefined when it exited 0. */
function runOne(js: string, cwd: string, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(process.execPath, [js], { cwd, timeout: 30_000, signal }, (error, _out, stderr) => {
      if (error === null) return done(undefined);
      const why = error.killed ? "did not finish within 30 s" : `exited with code ${error.code}`;
      const detail = stderr.trim().split("\n").slice(0, 12).join("\n    ");
      done(`${why}:\n    ${detail}`);
    });
  });
}

/** Type-checks every snippet of `options.files` in one program, then runs the runnable ones. */
export async function checkExamples(options: CheckOptions): Promise<CheckReport> {
  const { root, outDir } = options;
  const problems: string[] = [];
  const snippets = extract(root, options.files, problems);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const preludeFile = join(outDir, "prelude.d.ts");
  writeFileSync(preludeFile, prelude);
  const supportFiles = Object.entries(support).map(([name, text]) => {
    writeFileSync(join(outDir, name), text);
    return join(outDir, name);
  });
  const byFile = new Map<string, Snippet>();
  const optedOut: Snippet[] = [];
  for (const snippet of snippets) {
    if (snippet.tag?.name === "ignore") {
      optedOut.push(snippet);
      continue;
    }
    const name = `${snippet.file.replace(/[^\w.-]+/g, "_")}_L${snippet.line}.ts`;
    // `export {}` makes each snippet a module: its names are its own, and top-level await works.
    writeFileSync(join(outDir, name), `${snippet.code}\nexport {};\n`);
    byFile.set(join(outDir, name), snippet);
  }

  const program = ts.createProgram(
    [preludeFile, ...supportFiles, ...byFile.keys()],
    compilerOptions(root, outDir),
  );
  const checker = program.getTypeChecker();
  const preludeSource = program.getSourceFile(preludeFile);
  problems.push(...(await preludeShadows(root, preludeSource)));
  const broken = new Set<string>(); // not run: one report per broken example is enough
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const snippet = d.file === undefined ? undefined : byFile.get(d.file.fileName);
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (snippet === undefined || d.file === undefined || d.start === undefined) {
      problems.push(`${d.file?.fileName ?? "tsc"}: TS${d.code}: ${message}`);
      continue;
    }
    broken.add(d.file.fileName);
    const at = d.file.getLineAndCharacterOfPosition(d.start);
    problems.push(
      `${snippet.file}:${snippet.line + at.line}:${at.character + 1}: TS${d.code}: ${message}`,
    );
  }
  program.emit();

  const runnable: [string, Snippet][] = [];
  const typeChecked: CheckReport["typeChecked"] = [];
  for (const [file, snippet] of byFile) {
    if (broken.has(file)) continue;
    const source = program.getSourceFile(file);
    const names =
      source === undefined || preludeSource === undefined
        ? []
        : preludeNames(source, checker, preludeSource);
    if (snippet.tag?.name === "no-run") optedOut.push(snippet);
    else if (names.length > 0) typeChecked.push({ snippet, names });
    else runnable.push([file.replace(/\.ts$/, ".js"), snippet]);
  }
  const ran: Snippet[] = [];
  await map(
    runnable,
    async ([js, snippet], _i, signal) => {
      const problem = await runOne(js, outDir, signal);
      if (problem === undefined) ran.push(snippet);
      else problems.push(`${snippet.file}:${snippet.line}: the example ${problem}`);
    },
    { concurrency: options.concurrency ?? 2 },
  );
  return { total: snippets.length, problems, ran, typeChecked, optedOut };
}

/** README.md, docs/*.md and every TypeScript file under src/. */
export function documentedFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
    });
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs.sort(), ...walk("src").sort()];
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const report = await checkExamples({
    root,
    files: documentedFiles(root),
    outDir: join(root, ".build", "doc-examples"),
  });
  const where = (s: Snippet) => `${s.file}:${s.line}`;
  for (const s of report.optedOut) console.log(`  ${s.tag?.name} ${where(s)}: ${s.tag?.reason}`);
  const names = [...new Set(report.typeChecked.flatMap((t) => t.names))].sort();
  const failed = report.problems.length > 0 ? "; the rest are broken (below)" : "";
  console.log(
    `docs:check: ${report.total} examples: ${report.ran.length} compiled and ran, ` +
      `${report.typeChecked.length} compiled only (they use the prelude's ${names.join(", ")}), ` +
      `${report.optedOut.length} opted out (listed above)${failed}`,
  );
  if (report.problems.length > 0) {
    console.error(
      `Broken examples (fix the example, not the check):\n${report.problems.join("\n")}`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
