// Lets Node run smoke/'s TypeScript directly (type stripping), for the CLI. Two module hooks:
//
// - resolve: tsc (without allowImportingTsExtensions) wants `./run`, Node wants a file: an
//   extensionless relative import from a smoke .ts file resolves to the .ts file beside it.
// - load: stripping costs more than a whole run of four checks on loopback (docs/smoke.md,
//   "Start-up"), so each module's stripped JavaScript is kept in bin/smoke-cli/ (bin/ is ignored
//   by git), keyed by the source's mtime and size; a changed source is stripped again once.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { registerHooks, stripTypeScriptTypes } from "node:module";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

const here = new URL("./", import.meta.url);
const cacheDir = new URL("../bin/smoke-cli/", import.meta.url);

function isOurs(url) {
  return url.startsWith(here.href) && url.endsWith(".ts");
}

// model/cli.ts (the exit-code table every command shares) is an ES module too; Node strips it
// itself, uncached, since its name would clash with smoke/cli.ts's in the cache.
const model = new URL("../model/", import.meta.url);
function isModule(url) {
  return isOurs(url) || (url.startsWith(model.href) && url.endsWith(".ts"));
}

function strip(source) {
  // The API warns that it is experimental; the CLI's output is not the place for that, and Node's
  // own loader strips with the same function without a word.
  const warn = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return stripTypeScriptTypes(source, { mode: "strip" });
  } finally {
    process.emitWarning = warn;
  }
}

function stripped(url) {
  const file = fileURLToPath(url);
  const { mtimeMs, size } = statSync(file);
  const cached = new URL(
    `${basename(file, ".ts")}.${Math.trunc(mtimeMs * 1000)}.${size}.mjs`,
    cacheDir,
  );
  try {
    return readFileSync(cached, "utf8");
  } catch {
    const js = strip(readFileSync(file, "utf8"));
    try {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = new URL(`${cached.href}.${process.pid}.tmp`);
      writeFileSync(tmp, js);
      renameSync(tmp, cached);
      const stale = new RegExp(`^${basename(file, ".ts")}\\.\\d+\\.\\d+\\.mjs$`);
      for (const name of readdirSync(cacheDir)) {
        if (stale.test(name) && name !== basename(fileURLToPath(cached)))
          rmSync(new URL(name, cacheDir), { force: true });
      }
    } catch {
      // A read-only checkout still runs, stripping on every start.
    }
    return js;
  }
}

/** `cache: false` leaves the stripping to Node on every start (measured in bench/smoke.ts). */
export function registerSmokeHooks({ cache = true } = {}) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      let target = specifier;
      if (
        (specifier.startsWith("./") || specifier.startsWith("../")) &&
        context.parentURL !== undefined &&
        isOurs(context.parentURL) &&
        !/\.[cm]?[jt]s$/.test(specifier)
      ) {
        target = new URL(`${specifier}.ts`, context.parentURL).href;
      }
      const resolved = nextResolve(target, context);
      // smoke/'s .ts files are ES modules: saying so spares Node a CommonJS parse that fails first.
      return isModule(resolved.url) ? { ...resolved, format: "module-typescript" } : resolved;
    },
    load(url, context, nextLoad) {
      if (!cache || !isOurs(url)) return nextLoad(url, context);
      return { format: "module", source: stripped(url), shortCircuit: true };
    },
  });
}
