/**
 * Fails (exit 1) when an exported name of a public entry point has no TSDoc
 * summary or no `@example`: every public name must teach how it is used.
 * Run by `npm test` (npm run docs:check).
 */
import ts from "typescript";

const entries = [
  "src/index.ts",
  "src/node/index.ts",
  "src/testing/index.ts",
  "src/bullmq/index.ts",
];
const config = ts.getParsedCommandLineOfConfigFile(
  "tsconfig.build.json",
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  },
);
if (config === undefined) throw new Error("Cannot read tsconfig.build.json");
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();
const problems: string[] = [];

for (const entry of entries) {
  const source = program.getSourceFile(entry);
  if (source === undefined) continue;
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) continue; // an entry with no exports yet
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.getDeclarations() ?? [];
    const tags = declarations.flatMap((d) => ts.getJSDocTags(d));
    const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    const where =
      declarations[0]?.getSourceFile().fileName.replace(`${process.cwd()}/`, "") ?? entry;
    const isType = (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) !== 0;
    if (summary === "") problems.push(`${entry}: ${exported.name} (${where}) has no TSDoc summary`);
    // Types document themselves through their fields; values must show how they are used.
    if (!isType && !tags.some((t) => t.tagName.text === "example")) {
      problems.push(`${entry}: ${exported.name} (${where}) has no @example`);
    }
  }
}

if (problems.length > 0) {
  console.error(
    `Every exported name needs a TSDoc summary, and every exported value an @example:\n${problems.join("\n")}`,
  );
  process.exit(1);
}
console.log("docs:check: every exported name is documented");
