/**
 * A stack's secrets for verify and the tests: decrypted from the stack file in Pulumi's passphrase
 * format, or stand-ins that are named, never passed silently; and the config problems the program
 * would refuse. Light: no Pulumi SDK is loaded here.
 */
import * as fs from "node:fs";
import { parseConfig } from "../../model/config/parse";
import { PROJECT, SECRET_KEYS, type SecretKey } from "../../model/config/environmentConfig";
import { crypterFromStackFile, PassphraseError } from "./passphrase";
import { envSuffix } from "../promote/setup";
import { StackFileError, type StackConfig } from "../stackConfig";

export type SecretStatus =
  | { key: SecretKey; state: "decrypted" }
  | { key: SecretKey; state: "stand-in"; why: string }
  | { key: SecretKey; state: "absent" }
  /** A plain (not `secure:`) value: the program refuses it, and so does verify (configProblems). */
  | { key: SecretKey; state: "plaintext" };

export interface StackSecrets {
  /** "env-progression:<key>" -> plaintext, as evaluateStack takes them. */
  values: Record<string, string>;
  statuses: SecretStatus[];
}

/** A value that is certainly nobody's real secret, distinct per stack and key. */
export function standIn(stack: string, key: string): string {
  return `verify-stand-in-${stack}-${key}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The variable that holds one stack's own passphrase, as `npm run promote` reads it. */
export function stackPassphraseVariable(stack: string): string {
  return `PULUMI_CONFIG_PASSPHRASE_${envSuffix(stack as Parameters<typeof envSuffix>[0])}`;
}

export interface Passphrase {
  value: string;
  /** The variable it came from, for messages: never the value. */
  source: string;
}

/**
 * A stack's passphrase as `npm run promote` finds it: the stack's own
 * `PULUMI_CONFIG_PASSPHRASE_<ENV>` first, then the shared `PULUMI_CONFIG_PASSPHRASE`, then the file
 * `PULUMI_CONFIG_PASSPHRASE_FILE` names. An unreadable file is bad input (StackFileError).
 */
export function passphraseFor(
  stack: string,
  environ: Readonly<Record<string, string | undefined>> = process.env,
  readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8"),
): Passphrase | undefined {
  const own = stackPassphraseVariable(stack);
  const ownValue = environ[own];
  if (ownValue !== undefined) return { value: ownValue, source: own };
  const shared = environ.PULUMI_CONFIG_PASSPHRASE;
  if (shared !== undefined) return { value: shared, source: "PULUMI_CONFIG_PASSPHRASE" };
  const file = environ.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file === undefined || file === "") return undefined;
  try {
    return { value: readFile(file).replace(/\r?\n$/, ""), source: "PULUMI_CONFIG_PASSPHRASE_FILE" };
  } catch {
    throw new StackFileError([`PULUMI_CONFIG_PASSPHRASE_FILE: cannot read ${file}`]);
  }
}

/**
 * The stack's secrets: decrypted with the passphrase when the stack file has them and the
 * passphrase is given; otherwise stand-ins for the required ones, each with the reason, so that
 * the equality checks that could not run are reported, never passed silently. A secret key with a
 * plain value gets no stand-in: it is left to configProblems, which refuses it as the program does.
 * `given` is the passphrase, or a Passphrase that also names its variable for the messages.
 */
export function resolveSecrets(
  cfg: StackConfig,
  given: string | Passphrase | undefined,
): StackSecrets {
  const passphrase = typeof given === "string" ? given : given?.value;
  const source = typeof given === "object" ? ` (the passphrase came from ${given.source})` : "";
  const values: Record<string, string> = {};
  const statuses: SecretStatus[] = [];
  let crypter: { decrypt(c: string): string } | undefined;
  let crypterProblem: string | undefined;
  const secureKeys = Object.keys(cfg.secure).filter((k) => k.startsWith(`${PROJECT}:`));
  if (secureKeys.length > 0 && passphrase !== undefined) {
    if (cfg.encryptionsalt === undefined)
      crypterProblem = "the stack file has secure values but no encryptionsalt";
    else {
      try {
        crypter = crypterFromStackFile(cfg.encryptionsalt, passphrase);
      } catch (err) {
        crypterProblem =
          err instanceof PassphraseError
            ? `${err.message}${source}`
            : "the passphrase provider failed";
      }
    }
  }
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKey, { required: boolean }][]) {
    const full = `${PROJECT}:${key}`;
    const secure = cfg.secure[full];
    if (secure === undefined && full in cfg.values) {
      // A stand-in here would hide the plaintext value and pass the stack.
      statuses.push({ key, state: "plaintext" });
      continue;
    }
    if (secure === undefined) {
      if (spec.required) {
        values[full] = standIn(cfg.stack, key);
        statuses.push({ key, state: "stand-in", why: `not committed to Pulumi.${cfg.stack}.yaml` });
      } else statuses.push({ key, state: "absent" });
      continue;
    }
    if (passphrase === undefined) {
      values[full] = standIn(cfg.stack, key);
      statuses.push({
        key,
        state: "stand-in",
        why: `no passphrase: neither ${stackPassphraseVariable(cfg.stack)} nor PULUMI_CONFIG_PASSPHRASE is set`,
      });
      continue;
    }
    if (crypter === undefined) {
      values[full] = standIn(cfg.stack, key);
      statuses.push({ key, state: "stand-in", why: crypterProblem ?? "cannot decrypt" });
      continue;
    }
    try {
      values[full] = crypter.decrypt(secure);
      statuses.push({ key, state: "decrypted" });
    } catch (err) {
      values[full] = standIn(cfg.stack, key);
      statuses.push({
        key,
        state: "stand-in",
        why: err instanceof PassphraseError ? err.message : "cannot decrypt",
      });
    }
  }
  return { values, statuses };
}

/**
 * `text` with each of `values` (a stack's secrets or stand-ins) replaced by "[secret]", longest
 * first: for messages verify did not write itself, before they are printed.
 */
export function redactSecrets(text: string, values: Iterable<string>): string {
  const distinct = [...new Set(values)].filter((v) => v !== "").sort((a, b) => b.length - a.length);
  return distinct.reduce((out, v) => out.split(v).join("[secret]"), text);
}

export function configText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Problems with the stack's config that the program would refuse: one line each (exit 2). */
export function configProblems(
  stack: string,
  values: Record<string, string>,
  secretKeys: Iterable<string>,
  /** Which file each value came from (StackConfig.sources): a problem names the file to edit. */
  sources?: Readonly<Record<string, string>>,
): string[] {
  const result = parseConfig({
    stack,
    values,
    secretKeys: new Set(secretKeys),
    ...(sources ? { sources } : {}),
  });
  return result.ok ? [] : result.errors;
}
