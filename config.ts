/**
 * Reads the stack's configuration, all of it, in one place. Every problem is reported at once,
 * one line each, before any resource is created; a pulumi.RunError prints without a stack trace.
 */
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentConfig, parseConfig, PROJECT, SECRET_KEYS, SecretKey } from "./model/config";
import type { EnvironmentSecrets } from "./components/environment";

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
}

export function loadConfig(): LoadedConfig {
  const values = pulumi.runtime.allConfig();
  const secretKeys = new Set(Object.keys(values).filter(isConfigSecret));
  const result = parseConfig({ stack: pulumi.getStack(), values, secretKeys });
  if (!result.ok) {
    throw new pulumi.RunError(
      `The stack configuration has ${result.errors.length} problem(s); nothing was changed:\n  ` +
        result.errors.join("\n  "),
    );
  }
  const cfg = new pulumi.Config(PROJECT);
  const secret = (key: SecretKey) =>
    result.secretKeysPresent.includes(key) ? cfg.requireSecret(key) : undefined;
  const dbPassword = secret("dbPassword");
  if (dbPassword === undefined) {
    // parseConfig already refused a missing required secret; this keeps the types honest.
    throw new pulumi.RunError(`${PROJECT}:dbPassword is missing; ${SECRET_KEYS.dbPassword.what}`);
  }
  return { config: result.config, secrets: { dbPassword, smokeToken: secret("smokeToken") } };
}
