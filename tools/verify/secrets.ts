/**
 * A stack's secrets for verify and the tests: decrypted from the stack file in Pulumi's passphrase
 * format, or stand-ins that are named, never passed silently; and the config problems the program
 * would refuse. Light: no Pulumi SDK is loaded here.
 */
import { parseConfig, PROJECT, SECRET_KEYS, type SecretKey } from "../../model/config";
import { crypterFromStackFile, PassphraseError } from "../../model/passphrase";
import type { StackConfig } from "../stackConfig";

export type SecretStatus =
  | { key: SecretKey; state: "decrypted" }
  | { key: SecretKey; state: "stand-in"; why: string }
  | { key: SecretKey; state: "absent" };

export interface StackSecrets {
  /** "env-progression:<key>" -> plaintext, as evaluateStack takes them. */
  values: Record<string, string>;
  statuses: SecretStatus[];
}

/** A value that is certainly nobody's real secret, distinct per stack and key. */
export function standIn(stack: string, key: string): string {
  return `verify-stand-in-${stack}-${key}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * The stack's secrets: decrypted with the passphrase when the stack file has them and the
 * passphrase is given; otherwise stand-ins for the required ones, each with the reason, so that
 * the equality checks that could not run are reported, never passed silently.
 */
export function resolveSecrets(cfg: StackConfig, passphrase: string | undefined): StackSecrets {
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
          err instanceof PassphraseError ? err.message : "the passphrase provider failed";
      }
    }
  }
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKey, { required: boolean }][]) {
    const full = `${PROJECT}:${key}`;
    const secure = cfg.secure[full];
    if (secure === undefined) {
      if (spec.required) {
        values[full] = standIn(cfg.stack, key);
        statuses.push({ key, state: "stand-in", why: `not committed to Pulumi.${cfg.stack}.yaml` });
      } else statuses.push({ key, state: "absent" });
      continue;
    }
    if (passphrase === undefined) {
      values[full] = standIn(cfg.stack, key);
      statuses.push({ key, state: "stand-in", why: "PULUMI_CONFIG_PASSPHRASE is not set" });
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

export function configText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Problems with the stack's config that the program would refuse: one line each (exit 2). */
export function configProblems(
  stack: string,
  values: Record<string, string>,
  secretKeys: Iterable<string>,
): string[] {
  const result = parseConfig({ stack, values, secretKeys: new Set(secretKeys) });
  return result.ok ? [] : result.errors;
}
