/**
 * The stack configuration, validated into one typed EnvironmentConfig. Pure: it sees the raw
 * key/value map the Pulumi engine hands the program (PULUMI_CONFIG) and the list of keys that were
 * encrypted, and returns either the config or every problem at once, one line each.
 *
 * A typo in prod is exactly how environments drift, so an unknown key is an error, not a warning.
 */
import { EnvName, isEnvName, ENVIRONMENTS, Resources } from "./environment";
import { parseParityExceptions, PARITY_EXCEPTIONS_KEY, type ParityException } from "./parity";
import { parseCpu, parseMemory } from "./quantity";

export const PROJECT = "env-progression";

/** Config namespaces that belong to providers rather than to this program; passed through. */
const PROVIDER_NAMESPACES = ["kubernetes", "pulumi", "command"];

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
  smokeToken: { required: false, what: "a token the smoke tests send to /api/test-action" },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

export interface RawConfig {
  /** The stack (environment) name, as in Pulumi.<stack>.yaml. */
  stack: string;
  /** Every config value, keyed "namespace:key", as the engine passes it (objects as JSON text). */
  values: Record<string, string>;
  /** Keys ("namespace:key") whose values were encrypted in the stack file. */
  secretKeys: ReadonlySet<string>;
}

export type ConfigResult =
  | { ok: true; config: EnvironmentConfig; secretKeysPresent: SecretKey[] }
  | { ok: false; errors: string[] };

/** Anything with a `test`: a RegExp, or a predicate for what a RegExp cannot say. */
interface Check {
  test(value: string): boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// registry/name[:tag][@sha256:digest], lower-case path components as the distribution spec says.
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
// PostgreSQL's GUC time units; "0" disables the timeout.
const PG_DURATION = /^(0|[1-9][0-9]*(us|ms|s|min|h|d))$/;
const FLAG = /^([a-z][a-z0-9-]{0,62})=(on|off)$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const CIDR_V4 = /^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\/([0-9]|[12][0-9]|3[0-2])$/;
const CIDR_V6 = /^[0-9a-fA-F:]+\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$/;

export function isDigestPinned(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

/** Reads and checks every key. Each problem is one line naming the file, the key, and what is right. */
export function parseConfig(raw: RawConfig): ConfigResult {
  const file = `Pulumi.${raw.stack}.yaml`;
  const errors: string[] = [];
  const seen = new Set<string>();
  const fail = (key: string, got: string, expected: string) =>
    errors.push(`${file}: ${PROJECT}:${key} ${got}; expected ${expected}.`);
  const shown = (value: string) =>
    JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);

  if (!isEnvName(raw.stack)) {
    errors.push(
      `${file}: the stack is named "${raw.stack}"; expected one of ${ENVIRONMENTS.join(", ")} ` +
        `(one stack per environment: pulumi stack init dev).`,
    );
  }

  function rawValue(key: string): string | undefined {
    seen.add(key);
    return raw.values[`${PROJECT}:${key}`];
  }

  function str(key: string, check: Check, expected: string, fallback?: string): string {
    const v = rawValue(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      fail(key, "is missing", `${expected} (pulumi config set ${key} <value> -s ${raw.stack})`);
      return "";
    }
    if (!check.test(v)) fail(key, `is ${shown(v)}`, expected);
    return v;
  }

  function optionalStr(key: string, check: Check, expected: string): string | undefined {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    if (!check.test(v)) fail(key, `is ${shown(v)}`, expected);
    return v;
  }

  function int(key: string, min: number, max: number, fallback?: number): number {
    const v = rawValue(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      fail(key, "is missing", `a whole number from ${min} to ${max}`);
      return min;
    }
    const n = Number(v);
    if (!/^-?[0-9]+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max) {
      fail(key, `is ${shown(v)}`, `a whole number from ${min} to ${max}`);
      return min;
    }
    return n;
  }

  function json(key: string, expected: string): unknown {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      fail(key, `is ${shown(v)}`, expected);
      return undefined;
    }
  }

  function stringList(key: string, check: Check, expected: string, fallback: string[]): string[] {
    const value = json(key, `a YAML list of ${expected}`);
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
      fail(key, `is ${shown(JSON.stringify(value))}`, `a YAML list of ${expected}`);
      return fallback;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      if (typeof item !== "string" || !check.test(item)) {
        fail(`${key}[${i}]`, `is ${shown(JSON.stringify(item))}`, expected);
      } else out.push(item);
    });
    return out;
  }

  const env = (isEnvName(raw.stack) ? raw.stack : "dev") as EnvName;
  const appName = str("appName", DNS_LABEL, "a DNS label such as app (lower-case letters, digits, '-')", "app");
  if (appName.length > 40) fail("appName", `is ${shown(appName)}`, "at most 40 characters");
  const appSource = str("appSource", /^(reference|image)$/, `"reference" or "image"`, "reference") as AppSource;
  const image = str("image", IMAGE_REF, "an image reference such as node:24-alpine or registry/name@sha256:<64 hex>");
  const containerPort = int("containerPort", 1024, 65535, 8080);
  const version = optionalStr("version", VERSION, "a release version such as 1.4.2 (letters, digits, . _ + -)");
  const postgresImage = str("postgresImage", IMAGE_REF, "an image reference such as postgres:17-alpine", "postgres:17-alpine");
  const replicas = int("replicas", 0, 1000);
  const maxReplicasRaw = rawValue("maxReplicas");
  const maxReplicas = maxReplicasRaw === undefined ? undefined : int("maxReplicas", 1, 1000);
  if (maxReplicas !== undefined && maxReplicasRaw !== undefined && maxReplicas < replicas) {
    fail("maxReplicas", `is ${maxReplicas}, below replicas (${replicas})`, "a number at least as large as replicas");
  }
  const host = str("host", DNS_NAME, "a DNS host name such as staging.example.com");
  const ingressClassName = str("ingressClassName", DNS_NAME, "an IngressClass name such as nginx", "nginx");
  const ingressNamespaces = stringList(
    "ingressNamespaces",
    DNS_LABEL,
    "namespace names such as ingress-nginx",
    ["ingress-nginx"],
  );
  const egressCidrs = stringList(
    "egressCidrs",
    { test: (s: string) => CIDR_V4.test(s) || CIDR_V6.test(s) },
    "CIDR blocks such as 10.0.0.0/8",
    [],
  );
  const flagList = stringList("featureFlags", FLAG, `flags written name=on or name=off, such as "checkout-v2=on"`, []);
  const featureFlags: FeatureFlags = {};
  for (const entry of flagList) {
    const m = FLAG.exec(entry);
    if (!m || !m[1]) continue;
    if (m[1] in featureFlags) fail("featureFlags", `names ${m[1]} twice`, "each flag once");
    featureFlags[m[1]] = m[2] === "on";
  }
  const lockTimeout = str("lockTimeout", PG_DURATION, `a PostgreSQL duration such as 5s or 500ms ("0" disables it)`, "5s");
  const statementTimeout = str("statementTimeout", PG_DURATION, "a PostgreSQL duration such as 5min", "5min");
  const databaseStorage = str("databaseStorage", /^[0-9]+(Mi|Gi|Ti)$/, "a storage size such as 1Gi", "1Gi");
  const smokeBaseUrl = optionalStr("smokeBaseUrl", /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, "an http(s) URL such as https://staging.example.com");
  const smokeCaFile = optionalStr("smokeCaFile", /^[^\0]+\.(pem|crt)$/, "a path to a PEM file such as certs/ca.pem");
  const smokeRequestTimeoutSeconds = int("smokeRequestTimeoutSeconds", 1, 600, 10);
  const smokeDeadlineSeconds = int("smokeDeadlineSeconds", 1, 3600, 60);
  if (smokeDeadlineSeconds < smokeRequestTimeoutSeconds) {
    fail(
      "smokeDeadlineSeconds",
      `is ${smokeDeadlineSeconds}, below smokeRequestTimeoutSeconds (${smokeRequestTimeoutSeconds})`,
      "a deadline at least as long as one request's timeout",
    );
  }
  const smokeTrigger = optionalStr("smokeTrigger", /^.{1,200}$/, "any short text; change it to re-run the smoke tests");
  const exceptionsRaw = rawValue(PARITY_EXCEPTIONS_KEY);
  const { exceptions: parityExceptions, errors: exceptionErrors } = parseParityExceptions(exceptionsRaw);
  for (const e of exceptionErrors) errors.push(`${file}: ${e}.`);
  const resources = parseResources(json("resources", "a YAML map of requests and limits"), fail);

  // Secrets: required ones must be present, and every secret must have been encrypted.
  const secretKeysPresent: SecretKey[] = [];
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKey, (typeof SECRET_KEYS)[SecretKey]][]) {
    seen.add(key);
    const full = `${PROJECT}:${key}`;
    const present = full in raw.values;
    const how = `pulumi config set --secret ${key} <value> -s ${raw.stack}`;
    if (!present) {
      if (spec.required) errors.push(`${file}: ${full} is missing; it is ${spec.what}, set it with: ${how}.`);
      continue;
    }
    if (!raw.secretKeys.has(full)) {
      // The value itself is never repeated: it is already exposed in the file and should be rotated.
      errors.push(
        `${file}: ${full} is stored in plaintext; it is ${spec.what} and must be encrypted: ` +
          `rotate it, then set it with: ${how}.`,
      );
      continue;
    }
    secretKeysPresent.push(key);
  }

  for (const full of Object.keys(raw.values).sort()) {
    const i = full.indexOf(":");
    const ns = i < 0 ? "" : full.slice(0, i);
    const key = full.slice(i + 1);
    if (ns === PROJECT) {
      if (!seen.has(key)) errors.push(unknownKey(file, key, [...seen]));
    } else if (!PROVIDER_NAMESPACES.includes(ns)) {
      errors.push(
        `${file}: ${full} is in namespace "${ns}", which nothing reads; expected ${PROJECT}:<key> ` +
          `or a provider's own namespace (${PROVIDER_NAMESPACES.join(", ")}).`,
      );
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    secretKeysPresent,
    config: {
      env,
      appName,
      namespace: `${appName}-${env}`,
      appSource,
      image,
      containerPort,
      version,
      postgresImage,
      replicas,
      maxReplicas,
      resources: resources as Resources,
      host,
      ingressClassName,
      ingressNamespaces,
      egressCidrs,
      featureFlags,
      lockTimeout,
      statementTimeout,
      databaseStorage,
      smokeBaseUrl,
      smokeCaFile,
      smokeRequestTimeoutSeconds,
      smokeDeadlineSeconds,
      smokeTrigger,
      parityExceptions,
    },
  };
}

function parseResources(
  value: unknown,
  fail: (key: string, got: string, expected: string) => void,
): Resources | undefined {
  const example = "requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}";
  if (value === undefined) {
    fail("resources", "is missing", `a map such as {${example}}`);
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("resources", `is ${JSON.stringify(value)}`, `a map such as {${example}}`);
    return undefined;
  }
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (k !== "requests" && k !== "limits") fail(`resources.${k}`, "is not a known key", "only requests and limits");
  }
  const out: Partial<Resources> = {};
  for (const part of ["requests", "limits"] as const) {
    const spec = v[part];
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      fail(`resources.${part}`, spec === undefined ? "is missing" : `is ${JSON.stringify(spec)}`, "a map with cpu and memory");
      continue;
    }
    const s = spec as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (k !== "cpu" && k !== "memory") fail(`resources.${part}.${k}`, "is not a known key", "only cpu and memory");
    }
    const cpu = s.cpu;
    const memory = s.memory;
    if (typeof cpu !== "string" || parseCpu(cpu) === undefined) {
      fail(`resources.${part}.cpu`, cpu === undefined ? "is missing" : `is ${JSON.stringify(cpu)}`, "a CPU quantity such as 250m or 1");
    }
    if (typeof memory !== "string" || parseMemory(memory) === undefined) {
      fail(`resources.${part}.memory`, memory === undefined ? "is missing" : `is ${JSON.stringify(memory)}`, "a memory quantity such as 256Mi");
    }
    out[part] = { cpu: String(cpu), memory: String(memory) };
  }
  if (out.requests && out.limits) {
    for (const r of ["cpu", "memory"] as const) {
      const parse = r === "cpu" ? parseCpu : parseMemory;
      const req = parse(out.requests[r]);
      const lim = parse(out.limits[r]);
      if (req !== undefined && lim !== undefined && req > lim) {
        fail(`resources.requests.${r}`, `is ${out.requests[r]}, above its limit ${out.limits[r]}`, "a request at most the limit");
      }
    }
  }
  return out.requests && out.limits ? (out as Resources) : undefined;
}

function unknownKey(file: string, key: string, known: string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(k.toLowerCase(), key.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  const hint = close ? `did you mean ${PROJECT}:${close.k}?` : `one of ${known.sort().join(", ")}`;
  return `${file}: ${PROJECT}:${key} is not a known key; expected ${hint}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
