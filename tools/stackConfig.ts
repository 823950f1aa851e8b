/**
 * Reads a stack's configuration from Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI
 * hands it to a program: project defaults first, the stack file over them, every value as text
 * (objects and lists as JSON), keys "namespace:key". The CLI is not needed: the offline tests and
 * `verify` evaluate the program with exactly what `pulumi up` would give it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { isObject as isMap } from "../model/resources";

export interface StackConfig {
  stack: string;
  /** Plain values, keyed "namespace:key". */
  values: Record<string, string>;
  /** Encrypted values as they stand in the stack file ("v1:…"), keyed "namespace:key". */
  secure: Record<string, string>;
  /** The stack file's passphrase salt state, when it has one. */
  encryptionsalt: string | undefined;
  /** Where each key's value came from, for error messages. */
  sources: Record<string, string>;
}

export class StackFileError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "StackFileError";
  }
}

const STACK_FILE_KEYS = ["config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"];

function readYaml(file: string, problems: string[]): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${path.basename(file)}: cannot be read (${code ?? "error"}); expected the file at ${file}`);
    return undefined;
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    // The yaml library's first line ends "at line 3, column 1:" before an excerpt of the file.
    const first = (String((err as Error).message).split("\n")[0] ?? "").replace(/:$/, "");
    problems.push(`${path.basename(file)}: is not valid YAML: ${first}`);
    return undefined;
  }
}

/** The CLI passes every config value to the program as a string; structured values as JSON. */
function asConfigText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function readProject(rootDir: string): { name: string; defaults: Record<string, string> } {
  const problems: string[] = [];
  const doc = readYaml(path.join(rootDir, "Pulumi.yaml"), problems);
  if (problems.length) throw new StackFileError(problems);
  if (!isMap(doc) || typeof doc.name !== "string") {
    throw new StackFileError([`Pulumi.yaml: has no project name; expected "name: <project>" at the top`]);
  }
  const name = doc.name;
  const defaults: Record<string, string> = {};
  const config = doc.config ?? {};
  if (!isMap(config)) throw new StackFileError([`Pulumi.yaml: config is not a map of keys to declarations`]);
  for (const [key, decl] of Object.entries(config)) {
    const full = key.includes(":") ? key : `${name}:${key}`;
    if (isMap(decl)) {
      if ("default" in decl) defaults[full] = asConfigText(decl.default);
    } else {
      defaults[full] = asConfigText(decl);
    }
  }
  return { name, defaults };
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml; every problem at once, each naming the file and key. */
export function readStackConfig(rootDir: string, stack: string): StackConfig {
  const project = readProject(rootDir);
  const file = `Pulumi.${stack}.yaml`;
  const problems: string[] = [];
  const doc = readYaml(path.join(rootDir, file), problems);
  if (problems.length) throw new StackFileError(problems);
  if (!isMap(doc)) throw new StackFileError([`${file}: is not a map; expected "config:" at the top`]);

  for (const key of Object.keys(doc)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      problems.push(`${file}: top-level key "${key}" is not part of a stack file; expected one of ${STACK_FILE_KEYS.join(", ")}`);
    }
  }
  const values: Record<string, string> = { ...project.defaults };
  const sources: Record<string, string> = {};
  for (const k of Object.keys(values)) sources[k] = "Pulumi.yaml";
  const secure: Record<string, string> = {};
  const config = doc.config ?? {};
  if (!isMap(config)) {
    problems.push(`${file}: config is not a map; expected keys such as ${project.name}:replicas`);
  } else {
    for (const [key, value] of Object.entries(config)) {
      if (!key.includes(":")) {
        problems.push(`${file}: config key "${key}" has no namespace; expected ${project.name}:${key}`);
        continue;
      }
      sources[key] = file;
      if (isMap(value) && Object.keys(value).length === 1 && typeof value.secure === "string") {
        secure[key] = value.secure;
        delete values[key];
      } else if (value === null || value === undefined) {
        problems.push(`${file}: ${key} has no value; give it one or remove the line`);
      } else {
        values[key] = asConfigText(value);
      }
    }
  }
  const salt = doc.encryptionsalt;
  if (salt !== undefined && typeof salt !== "string") {
    problems.push(`${file}: encryptionsalt is not a string; expected the "v1:…" value pulumi wrote`);
  }
  if (problems.length) throw new StackFileError(problems);
  return { stack, values, secure, encryptionsalt: typeof salt === "string" ? salt : undefined, sources };
}
