/**
 * Reads the stack's configuration, all of it, in one place. Every problem is reported at once,
 * one line each, before any resource is created; a pulumi.RunError prints without a stack trace.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { EnvironmentSecrets, ProgramFiles } from "./components/environment";
import { readAppMigrations } from "./model/migrations";
import { isObject as isMap } from "./model/resources";
import {
  EnvironmentConfig,
  PROJECT,
  SECRET_KEYS,
  SecretKey,
} from "./model/config/environmentConfig";
import { parseConfig } from "./model/config/parse";

/** The SDK's own record of which keys were encrypted in the stack file (PULUMI_CONFIG_SECRET_KEYS). */
function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") {
    throw new pulumi.RunError("this @pulumi/pulumi has no runtime.isConfigSecret; install the pinned version (npm ci)");
  }
  return runtime.isConfigSecret(key);
}

export interface LoadedConfig {
  config: EnvironmentConfig;
  secrets: EnvironmentSecrets;
  files: ProgramFiles;
}

function refuse(errors: string[]): never {
  throw new pulumi.RunError(
    `The stack configuration has ${errors.length} problem(s); nothing was changed:\n  ` + errors.join("\n  "),
  );
}

/**
 * Where each value came from, so that a problem names the file to edit. The engine hands the
 * program one map, Pulumi.yaml's defaults under the stack file's values, and no origin: a value
 * the stack file does not set and that equals Pulumi.yaml's default for its key is that default.
 * Anything else, or a file that cannot be read, leaves Pulumi.<stack>.yaml named, as before.
 */
export function configSources(
  rootDir: string,
  stack: string,
  values: Record<string, string>,
): Record<string, string> {
  const configOf = (name: string): Record<string, unknown> => {
    try {
      const doc: unknown = parseYaml(fs.readFileSync(path.join(rootDir, name), "utf8"));
      return isMap(doc) && isMap(doc.config) ? doc.config : {};
    } catch {
      return {};
    }
  };
  const full = (key: string) => (key.includes(":") ? key : `${PROJECT}:${key}`);
  const stackFile = `Pulumi.${stack}.yaml`;
  const sources: Record<string, string> = {};
  for (const key of Object.keys(configOf(stackFile))) sources[full(key)] = stackFile;
  for (const [key, decl] of Object.entries(configOf("Pulumi.yaml"))) {
    const k = full(key);
    // As the CLI reads a project's config: {type, default, …} declares a default, a plain value is one.
    const value = isMap(decl) ? decl.default : decl;
    if (value === undefined || value === null || k in sources) continue;
    if (values[k] === (typeof value === "string" ? value : JSON.stringify(value))) {
      sources[k] = "Pulumi.yaml";
    }
  }
  return sources;
}

/** The files the config points at, read now so that a missing one stops the run before it starts. */
function readFiles(
  rootDir: string,
  config: EnvironmentConfig,
  sources: Record<string, string>,
): { files: ProgramFiles; errors: string[] } {
  const fileOf = (key: string) => sources[`${PROJECT}:${key}`] ?? `Pulumi.${config.env}.yaml`;
  const errors: string[] = [];
  const read = (rel: string, what: string, check: (text: string) => boolean, expected: string) => {
    const full = path.resolve(rootDir, rel);
    try {
      const text = fs.readFileSync(full, "utf8");
      if (check(text)) return text;
      errors.push(`${what} names ${rel}, which does not hold ${expected}.`);
    } catch {
      errors.push(`${what} names ${rel}, which cannot be read; expected ${expected} at ${full}.`);
    }
    return undefined;
  };
  const appCode =
    config.appSource === "reference"
      ? read("app/server.js", `${fileOf("appSource")}: ${PROJECT}:appSource "reference"`, (t) => t.length > 0, "the reference app's code (or set appSource: image)")
      : undefined;
  let migrations: Record<string, string> = {};
  try {
    migrations = readAppMigrations(rootDir);
  } catch (err) {
    errors.push(`${(err as Error).message}.`);
  }
  const smokeCaPem =
    config.smokeCaFile !== undefined
      ? read(config.smokeCaFile, `${fileOf("smokeCaFile")}: ${PROJECT}:smokeCaFile`, (t) => t.includes("-----BEGIN CERTIFICATE-----"), "a PEM certificate")
      : undefined;
  return { files: { appCode, migrations, smokeCaPem }, errors };
}

export function loadConfig(rootDir: string): LoadedConfig {
  const values = pulumi.runtime.allConfig();
  const secretKeys = new Set(Object.keys(values).filter(isConfigSecret));
  const stack = pulumi.getStack();
  const sources = configSources(rootDir, stack, values);
  const result = parseConfig({ stack, values, secretKeys, sources });
  if (!result.ok) refuse(result.errors);
  const { files, errors } = readFiles(rootDir, result.config, sources);
  if (errors.length > 0) refuse(errors);
  const cfg = new pulumi.Config(PROJECT);
  const secret = (key: SecretKey) =>
    result.secretKeysPresent.includes(key) ? cfg.requireSecret(key) : undefined;
  const dbPassword = secret("dbPassword");
  if (dbPassword === undefined) {
    // parseConfig already refused a missing required secret; this keeps the types honest.
    throw new pulumi.RunError(`${PROJECT}:dbPassword is missing; ${SECRET_KEYS.dbPassword.what}`);
  }
  return { config: result.config, secrets: { dbPassword, smokeToken: secret("smokeToken") }, files };
}
