// The repository's TypeScript, run by plain node with each file transpiled once: a synchronous
// module hook (node:module registerHooks, in the thread that loads the modules) that serves a
// `.ts` file as the CommonJS that `ts-node --transpile-only` would emit for it, from a cache.
//
//   node -r ./tools/build/register.cjs tools/verify.ts [args]
//
// Why: under ts-node, every start loads the TypeScript compiler and transpiles every file the
// program loads (about 140 for verify: the program, components/, model/, smoke/, tools/), which
// was the largest part of `npm run verify`'s time (bench/verify.ts). Here a file whose text has
// not changed since it was last run is read back from the cache; TypeScript is loaded only on a
// miss, to transpile what changed.
//
// What is emitted is ts-node's transpile-only emit: `ts.transpileModule` with the compiler
// options of tsconfig.json, without source maps (no stack trace is shown to a user: model/cli.ts).
// No type check here, as under `ts-node --transpile-only`: `npm test` type-checks (tsc).
//
// The cache is node_modules/.cache/env-progression/ts (tools/build/cache.cjs), and V8's code
// cache is on for every module the process loads (the SDK's and @pulumi/kubernetes's too). An entry's key
// is a hash of the file's text and extension, TypeScript's version, tsconfig.json's text and this
// emit's format, so a changed file, compiler or option never runs stale. Entries are written to a
// temporary name and renamed, so a killed run never leaves half a file for the next.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const { registerHooks } = require("node:module");
const path = require("node:path");
const { fileURLToPath, pathToFileURL } = require("node:url");

const { ROOT, cacheDir, enableCodeCache, typescriptVersion } = require("./cache.cjs");

const CACHE = cacheDir("ts");
const TSCONFIG = path.join(ROOT, "tsconfig.json");
/** Changing what is emitted changes this, and so every key. */
const EMIT_FORMAT = 1;

const salt = crypto
  .createHash("sha256")
  .update(
    JSON.stringify({
      EMIT_FORMAT,
      ts: typescriptVersion(),
      tsconfig: fs.readFileSync(TSCONFIG, "utf8"),
    }),
  )
  .digest();

let transpiler; // loaded on the first miss: { ts, options }
function transpile(filename, source) {
  if (transpiler === undefined) {
    const ts = require("typescript");
    const read = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
    for (const k of ["sourceMap", "inlineSourceMap", "declaration", "declarationMap", "noEmit"])
      options[k] = false;
    transpiler = { ts, options };
  }
  const { ts, options } = transpiler;
  const out = ts.transpileModule(source, {
    compilerOptions: options,
    fileName: filename,
    reportDiagnostics: true,
  });
  const [d] = out.diagnostics ?? [];
  if (d !== undefined) {
    const at =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const where = at ? `${filename}:${at.line + 1}:${at.character + 1}` : filename;
    throw new SyntaxError(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  return out.outputText;
}

function compiled(filename, source) {
  // The emit depends on the text and the extension only (no source map names the file), so a
  // copy of the repository (verify's tests run in copies) is served the same entries.
  const key = crypto
    .createHash("sha256")
    .update(salt)
    .update(path.extname(filename))
    .update("\0")
    .update(source);
  const hex = key.digest("hex").slice(0, 32);
  const entry = path.join(CACHE, hex.slice(0, 2), `${hex}.js`);
  try {
    return fs.readFileSync(entry, "utf8");
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  const js = transpile(filename, source);
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  const tmp = `${entry}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, js);
  fs.renameSync(tmp, entry);
  return js;
}

const isFile = (p) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() === true;

enableCodeCache();

registerHooks({
  // `import … from "./x"` names no extension: as under ts-node, x.ts or x/index.ts when node's
  // own resolution (x, x.js, x.json, x/index.js …) finds nothing.
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const parent = context.parentURL;
      if (
        err?.code !== "MODULE_NOT_FOUND" ||
        !(specifier.startsWith(".") || path.isAbsolute(specifier)) ||
        !parent?.startsWith("file:")
      )
        throw err;
      const base = path.resolve(path.dirname(fileURLToPath(parent)), specifier);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find(isFile);
      if (found === undefined) throw err;
      return { url: pathToFileURL(found).href, shortCircuit: true };
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith("file:") || !url.endsWith(".ts") || url.endsWith(".d.ts"))
      return nextLoad(url, context);
    const filename = fileURLToPath(url);
    if (filename.split(path.sep).includes("node_modules")) return nextLoad(url, context);
    const source = fs.readFileSync(filename, "utf8");
    return { format: "commonjs", source: compiled(filename, source), shortCircuit: true };
  },
});
