/**
 * A throwaway copy of the project, for the end-to-end suites and for `npm run local`: its own file
 * backend, its own passphrases, and stack files it may change (the smoke URL, a broken release)
 * without touching the checkout.
 *
 * Secrets: each stack gets a random passphrase; every `secure:` value in its stack file, and every
 * secret the program requires (SECRET_KEYS in model/config/environmentConfig.ts, e.g.
 * dbPassword), is set to a fresh random value, different per stack (so the policy that rejects a
 * lower environment's secret in a higher one is satisfied). That needs no secret in CI. It assumes the secrets are credentials the
 * program provisions itself, which is what they are (the database password is the database's).
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { isMap, isNode, isScalar, parseDocument } from "yaml";
import { PROJECT, SECRET_KEYS } from "../../model/config/environmentConfig";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import { REPO_ROOT } from "../../model/paths";
import { envSuffix, findOnPath } from "../../tools/promote/setup";

const NOT_COPIED = new Set([".git", ".pulumi", "bin", ".ci-tmp"]);

export interface E2eProject {
  dir: string;
  /** The variables every Pulumi command and promote run with: backend and passphrases. */
  environ: Record<string, string>;
  stack(env: EnvName): Promise<Stack>;
  outputs(env: EnvName): Promise<Record<string, unknown>>;
  /** Every secret value this copy was given (passphrases included), to search outputs for leaks. */
  secretValues: string[];
  /** The folder holding the copy (`dir`) and its state. */
  root: string;
  remove(): void;
}

/** A copy of the checkout in a temp directory, next to an empty state directory. */
export interface ProjectCopy {
  root: string;
  dir: string;
  state: string;
  /** Per stack, the secret config keys to set: those stripped from its file and the required ones. */
  secrets: Record<EnvName, string[]>;
}

/** Copy the checkout (node_modules linked, not copied; no .git, no local state) and strip secrets. */
export function copyProject(from: string = REPO_ROOT, under: string = os.tmpdir()): ProjectCopy {
  mkdirSync(under, { recursive: true });
  const root = mkdtempSync(path.join(under, "copy-"));
  const dir = path.join(root, "project");
  const state = path.join(root, "state");
  mkdirSync(state);

  const links: string[] = [];
  cpSync(from, dir, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(from, src);
      if (rel !== "" && NOT_COPIED.has(rel.split(path.sep)[0]!)) return false;
      if (path.basename(src) === "node_modules") {
        links.push(rel);
        return false;
      }
      return true;
    },
  });
  for (const rel of links) symlinkSync(path.join(from, rel), path.join(dir, rel), "dir");

  const required = Object.entries(SECRET_KEYS)
    .filter(([, secret]) => secret.required)
    .map(([key]) => `${PROJECT}:${key}`);
  const secrets = {} as Record<EnvName, string[]>;
  for (const env of ENVIRONMENTS) {
    const stripped = stripSecrets(path.join(dir, `Pulumi.${env}.yaml`));
    secrets[env] = [...new Set([...stripped, ...required])];
  }
  return { root, dir, state, secrets };
}

/** The copy with its own backend, a passphrase per stack, fresh secrets, and one git commit. */
export async function createProject(
  options: { under?: string; environ?: Record<string, string> } = {},
): Promise<E2eProject> {
  const { root, dir, state, secrets } = copyProject(REPO_ROOT, options.under);
  const environ: Record<string, string> = {
    ...options.environ,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  // One passphrase per stack below; a passphrase file from the caller's shell would compete.
  delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  for (const env of ENVIRONMENTS) environ[`PULUMI_CONFIG_PASSPHRASE_${envSuffix(env)}`] = random();
  const secretValues = ENVIRONMENTS.map(
    (env) => environ[`PULUMI_CONFIG_PASSPHRASE_${envSuffix(env)}`]!,
  );
  const project = openProject({ root, dir, environ, secretValues });

  // Fresh secrets, set through Pulumi so they are encrypted with the new passphrase.
  for (const env of ENVIRONMENTS) {
    for (const key of secrets[env]) {
      const value = random();
      secretValues.push(value);
      await (await project.stack(env)).setConfig(key, { value, secret: true });
    }
  }
  commitCopy(dir);
  return project;
}

/** What reopens a copy made by createProject: keep it private (mode 0600), it holds passphrases. */
export interface ProjectRecord {
  root: string;
  dir: string;
  environ: Record<string, string>;
  secretValues: string[];
}

/** A copy createProject made, from its record (`project` itself is one). */
export function openProject(record: ProjectRecord): E2eProject {
  const { root, dir, environ, secretValues } = record;
  const stacks = new Map<EnvName, Stack>();
  const project: E2eProject = {
    dir,
    environ,
    secretValues,
    async stack(env) {
      let stack = stacks.get(env);
      if (!stack) {
        const passphrase = environ[`PULUMI_CONFIG_PASSPHRASE_${envSuffix(env)}`]!;
        stack = await LocalWorkspace.createOrSelectStack(
          { stackName: env, workDir: dir },
          { workDir: dir, envVars: { ...environ, PULUMI_CONFIG_PASSPHRASE: passphrase } },
        );
        stacks.set(env, stack);
      }
      return stack;
    },
    async outputs(env) {
      const out = await (await project.stack(env)).outputs();
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
    },
    root,
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return project;
}

/**
 * Make the copy a git checkout with one commit, so that each release carries a real commit and
 * version (the program reads them with git), as in a clone; without git they read "unknown".
 */
export function commitCopy(dir: string): void {
  if (!findOnPath("git")) return;
  writeFileSync(path.join(dir, ".e2e-gitignore"), "node_modules\n");
  const git = (...args: string[]) => {
    const r = spawnSync(
      "git",
      ["-c", "user.name=e2e", "-c", "user.email=e2e@env-progression.invalid", ...args],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    if (r.status !== 0)
      throw new Error(`git ${args.join(" ")} in the e2e copy failed: ${r.stderr.trim()}`);
  };
  git("init", "-q");
  git("config", "core.excludesFile", ".e2e-gitignore");
  git("add", "-A");
  git("commit", "-q", "-m", "e2e copy");
}

function random(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * Remove the encryption salt and every `secure:` value from a stack file; return the keys removed.
 * A secret nested inside a structured value cannot be replaced by a random string, so it stops
 * the suite with the key's name rather than guess.
 */
export function stripSecrets(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const doc = parseDocument(text);
  doc.delete("encryptionsalt");
  doc.delete("encryptedkey");
  doc.delete("secretsprovider");
  const removed: string[] = [];
  const config = doc.get("config");
  if (isMap(config)) {
    for (const pair of [...config.items]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (isMap(pair.value) && pair.value.has("secure")) {
        config.delete(pair.key);
        removed.push(key);
      } else if (holdsSecure(isNode(pair.value) ? pair.value.toJSON() : pair.value)) {
        throw new Error(
          `${path.basename(file)}: ${key} holds a nested secret the e2e suite cannot re-key`,
        );
      }
    }
  }
  writeFileSync(file, doc.toString());
  return removed;
}

function holdsSecure(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecure);
  if (typeof value !== "object" || value === null) return false;
  return "secure" in value || Object.values(value).some(holdsSecure);
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * promote in the copy (`tools/promote.ts <args>` with this Node and ts-node, as `npm run promote`
 * runs it), streamed to this process's output as it goes.
 */
export function runPromote(project: E2eProject, args: string[]): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "tools/promote.ts", ...args],
      {
        cwd: project.dir,
        env: { ...process.env, ...project.environ },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(indent(chunk.toString()));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(indent(chunk.toString()));
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, "        ");
}
