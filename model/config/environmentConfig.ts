/**
 * What a stack's configuration is: the raw key/value map the Pulumi engine hands the program
 * (PULUMI_CONFIG), with the keys that were encrypted, and the one typed EnvironmentConfig that
 * model/config/parse.ts validates it into.
 */
import type { EnvName, Resources } from "../environment";
import type { ParityException } from "../parity/exceptions";

export const PROJECT = "env-progression";

export type AppSource = "reference" | "image";

export interface FeatureFlags {
  [name: string]: boolean;
}

export interface EnvironmentConfig {
  env: EnvName;
  /** Prefix of every Kubernetes name; the namespace is `${appName}-${env}`. */
  appName: string;
  namespace: string;
  /** "reference": the stock image runs app/server.js from a ConfigMap; "image": the image's own entrypoint. */
  appSource: AppSource;
  image: string;
  containerPort: number;
  /** The release version the workload reports; undefined means "the git commit being deployed". */
  version: string | undefined;
  postgresImage: string;
  replicas: number;
  /** Set: a HorizontalPodAutoscaler scales between `replicas` and this. */
  maxReplicas: number | undefined;
  resources: Resources;
  host: string;
  ingressClassName: string;
  /** Namespaces (by name) allowed to send ingress traffic: the ingress controller's. */
  ingressNamespaces: string[];
  /** CIDRs that pods may reach outside the cluster. Empty: none. */
  egressCidrs: string[];
  featureFlags: FeatureFlags;
  lockTimeout: string;
  statementTimeout: string;
  databaseStorage: string;
  /** Base URL for the smoke tests; defaults to http://<host>. */
  smokeBaseUrl: string | undefined;
  /** A PEM file (relative to the repository) of CAs the smoke tests trust for https. */
  smokeCaFile: string | undefined;
  smokeRequestTimeoutSeconds: number;
  smokeDeadlineSeconds: number;
  /** Any change re-runs the smoke tests on the next `up`. */
  smokeTrigger: string | undefined;
  /** Accepted differences from the environment below, each with a reason and an expiry. */
  parityExceptions: ParityException[];
}

/** Keys whose values must come from encrypted (secret) config. Their values never reach this module. */
export const SECRET_KEYS = {
  dbPassword: { required: true, what: "the PostgreSQL password for this environment" },
  smokeToken: {
    required: false,
    what: "a token the smoke tests send with every check, as Authorization: Bearer",
  },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

export interface RawConfig {
  /** The stack (environment) name, as in Pulumi.<stack>.yaml. */
  stack: string;
  /** Every config value, keyed "namespace:key", as the engine passes it (objects as JSON text). */
  values: Record<string, string>;
  /** Keys ("namespace:key") whose values were encrypted in the stack file. */
  secretKeys: ReadonlySet<string>;
  /**
   * The file each value came from, keyed "namespace:key" ("Pulumi.yaml" for a project default),
   * so that a problem names the file to edit. A key not listed is blamed on Pulumi.<stack>.yaml.
   */
  sources?: Readonly<Record<string, string>>;
}

export type ConfigResult =
  | { ok: true; config: EnvironmentConfig; secretKeysPresent: SecretKey[] }
  | { ok: false; errors: string[] };
