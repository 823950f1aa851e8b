/**
 * The program's side of parity, computed from its config without resources: exported as the stack
 * output `parityBaseline`, it becomes the policy config of the environment above.
 */
import type { EnvironmentConfig } from "../config/environmentConfig";
import { networkPolicies, type NetworkPolicySpec } from "../network";
import {
  type FingerprintParams,
  fingerprintSecrets,
  newFingerprintParams,
} from "../secrets/fingerprints";
import {
  APP_CONTAINER,
  APP_ENV_NAMES,
  APP_PORT_NAME,
  APP_UID,
  containerSecurityContext,
  FLAGS_FILE_KEY,
  httpProbes,
  podSecurityContext,
} from "../workload";
import { describeAllowances } from "./allowances";
import { PARITY_BASELINE_KIND, PARITY_VERSION, type ParityDocument } from "./document";
import { type ContainerShape, itemsFromShape, type ParityShape, probesOf, sha256 } from "./shape";

export interface BaselineInput {
  config: EnvironmentConfig;
  /** The migration ConfigMap's data: `readMigrations(dir, runner)` of model/migrations.ts. */
  migrations: Record<string, string>;
  /**
   * The stack's secret values in plaintext (call inside `pulumi.all([...]).apply`), keyed by the
   * config key: `{ dbPassword, smokeToken }`. Only their fingerprints leave this function.
   */
  secrets: Record<string, string | undefined>;
  /** Fingerprint parameters; fresh (a random salt) by default. Tests pass fixed ones. */
  fingerprint?: FingerprintParams;
}

/**
 * The parity side of an environment as the program computes it from its config, without
 * resources: exported as the stack output `parityBaseline`, it becomes the policy config of the
 * environment above. Agrees with `parityFromResources` over the resources the program registers
 * (tested for each real stack).
 */
export function parityBaseline(input: BaselineInput): ParityDocument {
  const c = input.config;
  const container: ContainerShape = {
    name: APP_CONTAINER,
    image: c.image,
    envNames: APP_ENV_NAMES,
    probes: probesOf(httpProbes(APP_PORT_NAME)),
    securityContext: containerSecurityContext(APP_UID),
    resources: c.resources,
  };
  const replicas =
    c.maxReplicas !== undefined
      ? { replicas: c.replicas, minReplicas: Math.max(1, c.replicas), maxReplicas: c.maxReplicas }
      : { replicas: c.replicas };
  const migrations: Record<string, string> = {};
  for (const [file, content] of Object.entries(input.migrations))
    migrations[file] = sha256(content);
  const shape: ParityShape = {
    environment: c.env,
    workloads: [
      {
        name: c.appName,
        containers: [container],
        podSecurityContext: podSecurityContext(APP_UID),
        replicas,
      },
    ],
    configMapKeys: [FLAGS_FILE_KEY, ...(c.appSource === "reference" ? ["server.js"] : [])],
    flags: c.featureFlags,
    migrations,
    hosts: [c.host],
    network: describeAllowances(
      networkPolicies({
        namespace: c.namespace,
        ingressNamespaces: c.ingressNamespaces,
        egressCidrs: c.egressCidrs,
      }).map((p): NetworkPolicySpec => p.spec),
    ),
  };
  const values = Object.entries(input.secrets)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .map(([key, value]) => ({ source: `config ${key}`, value }));
  return {
    kind: PARITY_BASELINE_KIND,
    version: PARITY_VERSION,
    environment: c.env,
    items: itemsFromShape(shape),
    secrets: fingerprintSecrets(values, input.fingerprint ?? newFingerprintParams()),
  };
}
