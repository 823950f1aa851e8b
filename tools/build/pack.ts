/**
 * The policy pack as JavaScript, built ahead of time, so that `verify` and the benchmarks start it
 * with plain node: no ts-node and no TypeScript compiler in the pack's process (about 190 MiB of
 * its idle memory and a second of CPU at every start).
 *
 * The engine (`pulumi preview --policy-pack policies`, tools/engine/plugins) still runs the
 * TypeScript sources with its own host; nothing here changes what it loads.
 *
 * The build is what verify's host did at every start before (ts-node in transpile-only mode:
 * `ts.transpileModule` per file, with run-policy-pack's compiler options), done once and cached,
 * keyed by a hash of every source file the pack can load, TypeScript's version and this file's
 * build options. A changed source gives a new key, so a stale pack is never run: the check costs
 * one read of the sources (a few milliseconds) at every start.
 *
 * `npm run build:pack` builds it by hand (it prints the directory); nobody needs to: every start
 * through PolicyPackProcess builds it when missing.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT as ROOT } from "../../model/paths";
import { cacheDir, typescriptVersion } from "./cache.cjs";

/** Where pack builds are kept (tools/build/cache.cjs). */
export const PACK_CACHE = cacheDir("pack");

/** The source folders of the repository's pack: policies/ and the model/ it reads. */
export const REPO_PACK_SOURCES = ["policies", "model"].map((d) => path.join(ROOT, d));

/**
 * run-policy-pack's compiler options without a tsconfig.json in the pack (policies/ has none):
 * target ES2020 and CommonJS (its `nodenext` is CommonJS for a package without "type": "module").
 */
const COMPILER_OPTIONS = { target: "ES2020", module: "CommonJS", sourceMap: false } as const;
/** Changing how files are emitted changes this, and so every key. */
const BUILD_FORMAT = 1;

export interface PackBuild {
  /** The built pack's directory (its package.json's main is the built entry). */
  dir: string;
  /** The build's key: the hash of its sources and options. */
  key: string;
  /** true when this call built it, false when the cache had it. */
  built: boolean;
}

function sourceFiles(roots: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  for (const r of roots) walk(r);
  return out.sort();
}

/** The key of a pack's sources: every file under the roots (path and content), TypeScript, options. */
export function packKey(packDir: string, roots: readonly string[]): string {
  const h = crypto.createHash("sha256");
  h.update(JSON.stringify({ BUILD_FORMAT, COMPILER_OPTIONS, ts: typescriptVersion(), packDir }));
  for (const f of sourceFiles(roots)) {
    h.update(`\0${path.relative(ROOT, f)}\0`);
    h.update(fs.readFileSync(f));
  }
  return h.digest("hex").slice(0, 20);
}

/** The common ancestor of the roots: the build mirrors the tree below it, so relative imports hold. */
function baseOf(roots: readonly string[]): string {
  let base = path.dirname(roots[0] as string);
  while (!roots.every((r) => r === base || r.startsWith(base + path.sep)))
    base = path.dirname(base);
  return base;
}

const RELATIVE_REQUIRE = /\brequire\("(\.{1,2}\/[^"]*)"\)/g;

/**
 * Builds (or finds) the pack of `packDir`, whose every loaded file lives under `roots` (default:
 * the pack directory alone). A relative import that leaves the roots, or a module that reads
 * `__dirname` (the build's folder is not the source's), fails the build naming the file: the key
 * would not cover what it loads, or the module would look for files in the wrong place.
 */
export function ensurePackBuild(
  packDir: string,
  roots: readonly string[] = [packDir],
  cache: string = PACK_CACHE,
): PackBuild {
  const absRoots = roots.map((r) => path.resolve(r));
  const pack = path.resolve(packDir);
  if (!absRoots.some((r) => pack === r || pack.startsWith(r + path.sep)))
    throw new Error(`pack build: ${pack} is not under its source folders ${absRoots.join(", ")}`);
  const key = packKey(pack, absRoots);
  const dir = path.join(cache, key);
  const base = baseOf(absRoots);
  const builtPack = path.join(dir, path.relative(base, pack));
  if (fs.existsSync(path.join(dir, ".complete"))) return { dir: builtPack, key, built: false };

  const ts = require("typescript") as typeof import("typescript");
  const options: import("typescript").CompilerOptions = {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    sourceMap: COMPILER_OPTIONS.sourceMap,
  };
  // Built beside the final folder and renamed into place: a build killed half-way leaves no
  // folder that a later start would take for complete.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const problems: string[] = [];
  const emitted = new Map<string, string>();
  for (const src of sourceFiles(absRoots)) {
    const rel = path.relative(base, src);
    const isTs = src.endsWith(".ts") && !src.endsWith(".d.ts");
    const target = path.join(tmp, isTs ? rel.replace(/\.ts$/, ".js") : rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!isTs) {
      fs.copyFileSync(src, target);
      continue;
    }
    const out = ts.transpileModule(fs.readFileSync(src, "utf8"), {
      compilerOptions: options,
      fileName: src,
      reportDiagnostics: true,
    });
    for (const d of out.diagnostics ?? [])
      problems.push(`${rel}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    fs.writeFileSync(target, out.outputText);
    emitted.set(target, rel);
  }
  // What the pack can load: its entry, then every relative require of a loaded file.
  const manifest = path.join(tmp, path.relative(base, pack), "package.json");
  const main = fs.existsSync(manifest)
    ? ((JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: string }).main ?? "index.js")
    : "index.js";
  const entryJs = path.join(tmp, path.relative(base, pack), main.replace(/\.ts$/, ".js"));
  if (fs.existsSync(manifest))
    fs.writeFileSync(
      manifest,
      JSON.stringify(
        { ...JSON.parse(fs.readFileSync(manifest, "utf8")), main: path.basename(entryJs) },
        null,
        2,
      ),
    );
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    const rel = emitted.get(file) ?? path.relative(tmp, file);
    if (/\b__dirname\b|\b__filename\b/.test(text))
      problems.push(`${rel} reads __dirname or __filename, which the built copy would not share`);
    for (const m of text.matchAll(RELATIVE_REQUIRE)) {
      const spec = m[1] as string;
      const target = [".js", "/index.js", ".json", ""]
        .map((ext) => path.resolve(path.dirname(file), spec) + ext)
        .find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
      if (target !== undefined) {
        if (target.endsWith(".js")) visit(target);
        continue;
      }
      // Not in the build: outside the roots (the key would not cover it: refused), or nowhere,
      // which the pack reports itself when it loads ("Cannot find module"), as under the engine.
      const source = path.resolve(path.dirname(path.join(base, rel)), spec);
      if ([".ts", "/index.ts", ".json", ".js", ""].some((ext) => fs.existsSync(source + ext)))
        problems.push(`${rel} imports "${spec}", which is not under ${absRoots.join(", ")}`);
    }
  };
  if (!fs.existsSync(entryJs)) problems.push(`the pack's entry ${main} is not in ${pack}`);
  else visit(entryJs);
  if (problems.length > 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`pack build of ${pack} failed:\n${problems.join("\n")}`);
  }
  fs.writeFileSync(path.join(tmp, ".complete"), `${key}\n`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    // Another process built the same key meanwhile: its build is as good as ours.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, ".complete"))) throw err;
  }
  pruneBuilds(cache, dir);
  return { dir: builtPack, key, built: true };
}

/** How many complete builds a cache keeps: every edit of a policy makes one. */
export const KEEP_BUILDS = 8;

/**
 * Removes the complete builds beyond the KEEP_BUILDS most recent (`current` always stays), so
 * that editing policies for a day does not fill node_modules/.cache. A build half-way (a
 * `.tmp-` folder) belongs to a running process and is left alone.
 */
function pruneBuilds(cache: string, current: string): void {
  const builds = fs
    .readdirSync(cache, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.includes(".tmp-"))
    .map((e) => path.join(cache, e.name))
    .filter((d) => d !== current && fs.existsSync(path.join(d, ".complete")))
    .map((d) => ({ d, at: fs.statSync(path.join(d, ".complete")).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { d } of builds.slice(KEEP_BUILDS - 1)) fs.rmSync(d, { recursive: true, force: true });
}

/** The source folders of a pack: the repository's pack reads model/ too; any other, itself. */
export function packSources(packDir: string): string[] {
  const repoPack = path.join(ROOT, "policies");
  return path.resolve(packDir) === repoPack ? REPO_PACK_SOURCES : [path.resolve(packDir)];
}

if (require.main === module) {
  try {
    const dir = path.resolve(process.argv[2] ?? path.join(ROOT, "policies"));
    const b = ensurePackBuild(dir, packSources(dir));
    process.stdout.write(`${b.dir} (${b.built ? "built" : "up to date"}, key ${b.key})\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
