// Where this repository keeps what it builds for itself, and what those builds' keys share:
// node_modules/.cache/env-progression/<what> (ignored by git with node_modules/, and removed
// with it), inside the repository so that a built file's `require("@pulumi/policy")` walks up to
// the repository's node_modules as the source's does.
"use strict";
const path = require("node:path");

/** The repository root, for the CommonJS that runs before any TypeScript (model/paths.ts's REPO_ROOT). */
const ROOT = path.resolve(__dirname, "..", "..");

/** The cache folder of one kind of build: "pack", "ts", "v8". */
function cacheDir(what) {
  return path.join(ROOT, "node_modules", ".cache", "env-progression", what);
}

/**
 * V8's code cache for every module this process loads from now on (node:module
 * enableCompileCache, kept per Node version below cacheDir("v8")): a module whose text is
 * unchanged is not compiled again, which halves the time to load @pulumi/pulumi and
 * @pulumi/kubernetes. A cache that cannot be used is no error: the modules compile as always.
 */
function enableCodeCache() {
  require("node:module").enableCompileCache(cacheDir("v8"));
}

/** The TypeScript compiler's version, which every key of a transpiled build carries. */
function typescriptVersion() {
  return require("typescript/package.json").version;
}

module.exports = { ROOT, cacheDir, enableCodeCache, typescriptVersion };
