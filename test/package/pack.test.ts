/**
 * The package as users get it: `npm pack` makes a tarball with only dist/,
 * README, LICENSE and package.json; installed into a fresh project, its three
 * entry points import under ESM, run, and type-check under
 * `moduleResolution: "nodenext"` (issue 8).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; resolves with its exit code and output, whatever the code. */
function exec(file: string, args: readonly string[], cwd: string): Promise<Result> {
  // Don't let `npm test`'s own lifecycle variables steer the npm we start.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_local_prefix$|config_prefix$)/.test(key))
      env[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env, timeout: 90_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr: stderr || (error?.message ?? "") });
      },
    );
  });
}

/** npm, as the one running `npm test` when there is one, else from PATH. */
function npm(args: readonly string[], cwd: string): Promise<Result> {
  const cli = process.env.npm_execpath;
  return cli !== undefined && /\.c?js$/.test(cli)
    ? exec(process.execPath, [cli, ...args], cwd)
    : exec("npm", args, cwd);
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  dependencies?: Record<string, string>;
};

describe("the packed package", () => {
  let tmp = "";
  let project = "";
  let tarball = "";
  let files: string[] = [];
  let npmMissing: string | undefined;
  let installedWith = "";

  before(async () => {
    const version = await npm(["--version"], root);
    if (version.code !== 0) {
      npmMissing = `npm is not available: ${version.stderr.trim()}`;
      return;
    }
    tmp = mkdtempSync(join(tmpdir(), "aiokit-pack-"));
    const packed = await npm(
      ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp],
      root,
    );
    assert.equal(packed.code, 0, `npm pack failed:\n${packed.stderr}`);
    // npm may print warnings before the JSON.
    const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as {
      filename: string;
      files: { path: string }[];
    }[];
    const first = report[0];
    assert.ok(first !== undefined, "npm pack reported no package");
    tarball = join(tmp, first.filename);
    files = first.files.map((f) => f.path);

    project = join(tmp, "project");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "aiokit-pack-check", private: true, type: "module" }),
    );
    await install();
  });

  /**
   * Installs the tarball: offline from npm's cache first (no network), then
   * allowing the registry, and as a last resort by unpacking it and linking
   * its runtime dependencies from this repository's node_modules.
   */
  async function install(): Promise<void> {
    const base = ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"];
    const offline = await npm([...base, "--offline", tarball], project);
    installedWith = "npm install --offline";
    if (offline.code === 0) return;
    const online = await npm([...base, "--prefer-offline", tarball], project);
    installedWith = "npm install --prefer-offline";
    if (online.code === 0) return;
    installedWith = "tar + links to this repository's node_modules";
    const target = join(project, "node_modules", pkg.name);
    mkdirSync(target, { recursive: true });
    const untar = await exec(
      "tar",
      ["-xzf", tarball, "-C", target, "--strip-components=1"],
      project,
    );
    assert.equal(
      untar.code,
      0,
      `cannot install the tarball:\n${offline.stderr}\n${online.stderr}\n${untar.stderr}`,
    );
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const link = join(project, "node_modules", dep);
      mkdirSync(join(link, ".."), { recursive: true });
      if (!existsSync(link)) symlinkSync(join(root, "node_modules", dep), link, "dir");
    }
  }

  after(() => {
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  it("holds only dist/, README.md, LICENSE and package.json", (t) => {
    if (npmMissing !== undefined) return t.skip(npmMissing);
    t.diagnostic(`installed with ${installedWith}`);
    const stray = files.filter((f) => !/^(dist\/.+|README\.md|LICENSE|package\.json)$/.test(f));
    assert.deepEqual(stray, []);
    for (const needed of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/node/index.js",
      "dist/testing/index.js",
      "dist/bullmq/index.js",
      "dist/bullmq/index.d.ts",
      "dist/bullmq/deps.js",
    ]) {
      assert.ok(files.includes(needed), `${needed} is missing from the tarball`);
    }
    assert.ok(files.includes("README.md") && files.includes("LICENSE"));
  });

  it("imports aiokit, aiokit/node and aiokit/testing from ESM and runs a task group", async (t) => {
    if (npmMissing !== undefined) return t.skip(npmMissing);
    writeFileSync(
      join(project, "check.mjs"),
      `import { taskGroup, sleep } from "aiokit";
import * as node from "aiokit/node";
import { withVirtualClock } from "aiokit/testing";
const sum = await taskGroup(async (tg) => {
  const a = tg.spawn(async (signal) => { await sleep(5, { signal }); return 1; });
  const b = tg.spawn(() => 2);
  return (await a) + (await b);
});
const slept = await withVirtualClock(async () => { await sleep(60_000); return "virtual"; }, { autoAdvance: true });
console.log(JSON.stringify({ sum, slept, node: typeof node }));
`,
    );
    const run = await exec(process.execPath, ["check.mjs"], project);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { sum: 3, slept: "virtual", node: "object" });
  });

  // Issue 15: aiokit/bullmq ships, and its optional peers are really optional.
  it("imports aiokit/bullmq only with bullmq and ioredis installed, else says what to install", async (t) => {
    if (npmMissing !== undefined) return t.skip(npmMissing);
    const check = `import { defineTask, localQueue } from "aiokit/bullmq";
const square = defineTask("square", (n) => n * n);
console.log(JSON.stringify(await localQueue().map([1, 2, 3], square)));
`;
    writeFileSync(join(project, "bullmq-check.mjs"), check);
    const peers = ["bullmq", "ioredis"];
    for (const peer of peers) {
      assert.ok(!existsSync(join(project, "node_modules", peer)), `${peer} was installed`);
    }
    const without = await exec(process.execPath, ["bullmq-check.mjs"], project);
    assert.notEqual(without.code, 0, "aiokit/bullmq imported without its peers");
    assert.match(
      without.stderr,
      /Cannot load aiokit\/bullmq: it needs its optional peer dependencies bullmq and ioredis; install them with `npm install bullmq ioredis`/,
    );
    // As if the user ran `npm install bullmq ioredis`: this repository's copies.
    for (const peer of peers)
      symlinkSync(join(root, "node_modules", peer), join(project, "node_modules", peer), "dir");
    try {
      const ok = await exec(process.execPath, ["bullmq-check.mjs"], project);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), [1, 4, 9]);
    } finally {
      for (const peer of peers) rmSync(join(project, "node_modules", peer), { force: true });
    }
  });

  it("type-checks under strict nodenext, and its types are real (a wrong type fails)", async (t) => {
    if (npmMissing !== undefined) return t.skip(npmMissing);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          lib: ["es2023", "esnext.disposable", "dom"],
          strict: true,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["check.ts"],
      }),
    );
    const good = `import { taskGroup, type Task } from "aiokit";
import * as node from "aiokit/node";
import { withVirtualClock, type VirtualClock } from "aiokit/testing";
const n: number = await taskGroup(async (tg) => {
  const task: Task<number> = tg.spawn(() => 1);
  return task;
});
const v: string = await withVirtualClock(async (clock: VirtualClock) => String(clock.now()));
export { n, node, v };
`;
    writeFileSync(join(project, "check.ts"), good);
    const ok = await exec(process.execPath, [tsc, "-p", "."], project);
    assert.equal(ok.code, 0, `the installed types do not compile:\n${ok.stdout}${ok.stderr}`);

    writeFileSync(join(project, "check.ts"), good.replace("const n: number", "const n: string"));
    // The library's .d.ts were just checked; skip them this time (faster).
    const bad = await exec(process.execPath, [tsc, "-p", ".", "--skipLibCheck"], project);
    assert.notEqual(bad.code, 0, "a wrong type should fail: are the types resolved at all?");
    assert.match(bad.stdout, /check\.ts\(4,7\): error TS2322/);
  });

  // Issue 19: the published .d.ts must not need the DOM lib (nor Node's types for the core).
  for (const [name, lib, types, check] of [
    [
      "Node-only (no DOM lib)",
      ["es2023", "esnext.disposable"],
      ["node"],
      'import * as a from "aiokit";\nimport * as n from "aiokit/node";\nimport * as t from "aiokit/testing";\nexport { a, n, t };\n',
    ],
    [
      "DOM-only (no @types/node), core and testing",
      ["es2023", "esnext.disposable", "dom"],
      [],
      'import * as a from "aiokit";\nimport * as t from "aiokit/testing";\nexport { a, t };\n',
    ],
  ] as const) {
    it(`its .d.ts files type-check with skipLibCheck: false under a ${name} tsconfig`, async (t) => {
      if (npmMissing !== undefined) return t.skip(npmMissing);
      const config = `tsconfig.${types.length === 0 ? "dom" : "node"}.json`;
      const file = `libs-${types.length === 0 ? "dom" : "node"}.ts`;
      writeFileSync(join(project, file), check);
      writeFileSync(
        join(project, config),
        JSON.stringify({
          compilerOptions: {
            target: "es2022",
            module: "nodenext",
            moduleResolution: "nodenext",
            lib,
            types,
            typeRoots: [join(root, "node_modules", "@types")],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: [file],
        }),
      );
      const r = await exec(process.execPath, [tsc, "-p", config], project);
      assert.equal(r.code, 0, `the packed types need more than ${name}:\n${r.stdout}${r.stderr}`);
    });
  }

  // Issue 17: the packed core, installed from the tarball, imports in Deno and Bun.
  for (const runtime of ["deno", "bun"] as const) {
    it(`imports the packed core and aiokit/testing from ${runtime}`, async (t) => {
      if (npmMissing !== undefined) return t.skip(npmMissing);
      const exe = join(root, "test", "runtimes", "node_modules", ".bin", runtime);
      if (!existsSync(exe))
        return t.skip(`${runtime} is not installed: npm ci --prefix test/runtimes`);
      writeFileSync(
        join(project, "core-check.mjs"),
        `import { taskGroup, sleep } from "aiokit";
import { withVirtualClock } from "aiokit/testing";
const sum = await taskGroup(async (tg) => {
  const a = tg.spawn(async (signal) => { await sleep(5, { signal }); return 1; });
  return (await a) + 2;
});
const slept = await withVirtualClock(async () => { await sleep(60_000); return "virtual"; }, { autoAdvance: true });
console.log(JSON.stringify({ sum, slept }));
`,
      );
      const args =
        runtime === "deno"
          ? ["run", "--quiet", "--no-prompt", "--allow-read", "--allow-env", "core-check.mjs"]
          : ["core-check.mjs"];
      const r = await exec(exe, args, project);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { sum: 3, slept: "virtual" });
    });
  }
});
