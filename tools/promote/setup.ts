/**
 * What `npm run promote` needs from the machine, checked before any stack is touched: stack files
 * it can read, the pulumi CLI, the state backend, a passphrase per stack. Functions over an
 * environment map, file texts or a folder, so that they are tested without touching the real ones.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { EnvName } from "../../model/environment";
import { readStackConfig, StackFileError } from "../stackConfig";

export type Environ = Readonly<Record<string, string | undefined>>;

/** The CLI to install: the version of the SDK this project pins (docs/deploy.md says the same). */
const SDK_VERSION = (require("@pulumi/pulumi/package.json") as { version: string }).version;
export const PULUMI_INSTALL_HINT = `install it with \`curl -fsSL https://get.pulumi.com | sh -s -- --version ${SDK_VERSION}\` (the version of @pulumi/pulumi in package.json), open a new shell, and run again`;

/** The first executable called `name` on PATH, like `command -v`. */
export function findOnPath(name: string, environ: Environ = process.env): string | undefined {
  const dirs = (environ.PATH ?? "").split(path.delimiter).filter((d) => d.length > 0);
  const suffixes =
    process.platform === "win32" ? (environ.PATHEXT ?? ".EXE;.CMD").split(";") : [""];
  for (const dir of dirs) {
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface Backend {
  /** The backend URL, when it can be known without the CLI. */
  url?: string;
  /** Where it comes from, in Pulumi's order: the variable wins over the project file. */
  source: "PULUMI_BACKEND_URL" | "Pulumi.yaml" | "pulumi login";
}

/**
 * The state backend the stacks use, as Pulumi picks it: `PULUMI_BACKEND_URL`, else the project's
 * `backend.url` (Pulumi.yaml ships `file://./.pulumi`, so a new user needs no account), else
 * whatever `pulumi login` selected.
 */
export function resolveBackend(
  projectFileText: string | undefined,
  environ: Environ = process.env,
): Backend {
  const fromEnv = environ.PULUMI_BACKEND_URL?.trim();
  if (fromEnv) return { url: fromEnv, source: "PULUMI_BACKEND_URL" };
  let project: unknown;
  try {
    project = projectFileText === undefined ? undefined : parseYaml(projectFileText);
  } catch {
    project = undefined;
  }
  const url = (project as { backend?: { url?: unknown } } | undefined)?.backend?.url;
  if (typeof url === "string" && url.trim() !== "")
    return { url: url.trim(), source: "Pulumi.yaml" };
  return { source: "pulumi login" };
}

/** The directory of a `file://` backend (`./x` is relative to the project, `~/x` to home). */
export function fileBackendDir(
  url: string,
  projectDir: string,
  home: string = os.homedir(),
): string | undefined {
  if (!url.startsWith("file://")) return undefined;
  const rest = url.slice("file://".length);
  if (rest.startsWith("~")) return path.join(home, rest.slice(1));
  return path.isAbsolute(rest) ? rest : path.resolve(projectDir, rest);
}

/** Backends whose stacks default to the passphrase secrets provider (all but Pulumi Cloud). */
export function isDiyBackend(backend: Backend): boolean {
  return backend.url !== undefined && /^(file|s3|gs|azblob|postgres):\/\//.test(backend.url);
}

export function envSuffix(env: EnvName): string {
  return env.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The variables one stack's Pulumi commands run with, on top of this process's: its own
 * passphrase and kubeconfig when `PULUMI_CONFIG_PASSPHRASE_<ENV>` / `KUBECONFIG_<ENV>` are set.
 * Otherwise the process's own (`PULUMI_CONFIG_PASSPHRASE[_FILE]`, `KUBECONFIG`, the current kube
 * context) apply.
 */
export function stackVariables(
  env: EnvName,
  environ: Environ = process.env,
): Record<string, string> {
  const vars: Record<string, string> = { PULUMI_SKIP_UPDATE_CHECK: "true" };
  const suffix = envSuffix(env);
  const passphrase = environ[`PULUMI_CONFIG_PASSPHRASE_${suffix}`];
  if (passphrase !== undefined) vars.PULUMI_CONFIG_PASSPHRASE = passphrase;
  const kubeconfig = environ[`KUBECONFIG_${suffix}`];
  if (kubeconfig !== undefined && kubeconfig !== "") vars.KUBECONFIG = kubeconfig;
  return vars;
}

/**
 * The stacks that use the passphrase secrets provider but have no passphrase to run with. Pulumi
 * would stop at the first of them asking for a passphrase it cannot prompt for; this names all of
 * them up front. `stackFile` returns a stack file's text, or undefined when there is none.
 */
export function missingPassphrases(
  envs: readonly EnvName[],
  stackFile: (env: EnvName) => string | undefined,
  backend: Backend,
  environ: Environ = process.env,
): EnvName[] {
  const shared =
    environ.PULUMI_CONFIG_PASSPHRASE !== undefined ||
    (environ.PULUMI_CONFIG_PASSPHRASE_FILE ?? "") !== "";
  return envs.filter((env) => {
    if (environ[`PULUMI_CONFIG_PASSPHRASE_${envSuffix(env)}`] !== undefined || shared) return false;
    return usesPassphrase(stackFile(env), isDiyBackend(backend));
  });
}

/**
 * Whether a stack uses the passphrase provider: its file says so (`secretsprovider: passphrase`,
 * or an `encryptionsalt`, which only that provider writes), or it names no provider on a backend
 * whose default is the passphrase (any but Pulumi Cloud).
 */
export function usesPassphrase(stackFileText: string | undefined, diyBackend: boolean): boolean {
  let doc: unknown;
  try {
    doc = stackFileText === undefined ? undefined : parseYaml(stackFileText);
  } catch {
    doc = undefined;
  }
  const file = (typeof doc === "object" && doc !== null ? doc : {}) as {
    secretsprovider?: unknown;
    encryptionsalt?: unknown;
  };
  const provider = file.secretsprovider;
  if (typeof provider === "string" && provider !== "") return provider.startsWith("passphrase");
  if (file.encryptionsalt !== undefined) return true;
  return diyBackend;
}

/**
 * Every problem of Pulumi.yaml and of the stack files of `envs` that `verify` would refuse them
 * for (not YAML, not a map, a key Pulumi does not know), each once: bad input, reported before
 * anything runs rather than by the CLI half-way through.
 */
export function stackFileProblems(repoRoot: string, envs: readonly EnvName[]): string[] {
  const problems = new Set<string>();
  for (const env of envs) {
    try {
      readStackConfig(repoRoot, env);
    } catch (err) {
      if (!(err instanceof StackFileError)) throw err;
      for (const p of err.problems) problems.add(p);
    }
  }
  return [...problems];
}

export function readProjectFile(repoRoot: string, name: string): string | undefined {
  try {
    return readFileSync(path.join(repoRoot, name), "utf8");
  } catch {
    return undefined;
  }
}
