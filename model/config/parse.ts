/**
 * The stack configuration, validated into one typed EnvironmentConfig. Pure: it sees the raw
 * key/value map the Pulumi engine hands the program (PULUMI_CONFIG) and the list of keys that were
 * encrypted, and returns either the config or every problem at once, one line each.
 *
 * A typo in prod is exactly how environments drift, so an unknown key is an error, not a warning.
 */
import { type EnvName, ENVIRONMENTS, isEnvName, type Resources } from "../environment";
import { PARITY_EXCEPTIONS_KEY, parseParityExceptions } from "../parity/exceptions";
import {
  type AppSource,
  type ConfigResult,
  type FeatureFlags,
  PROJECT,
  type RawConfig,
  SECRET_KEYS,
  type SecretKey,
} from "./environmentConfig";
import { redactValue, shownValue } from "./redact";
import { parseResources } from "./resources";
import { unknownKey } from "./unknownKey";

/** Config namespaces that belong to providers rather than to this program; passed through. */
const PROVIDER_NAMESPACES = ["kubernetes", "pulumi", "command"];

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
const CIDR_V4 =
  /^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\/([0-9]|[12][0-9]|3[0-2])$/;
const CIDR_V6 = /^[0-9a-fA-F:]+\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$/;
/** What `json` returns for a value that is not JSON, its problem reported already. */
const UNREADABLE = Symbol("unreadable, reported");

/** Reads and checks every key. Each problem is one line naming the file, the key, and what is right. */
export function parseConfig(raw: RawConfig): ConfigResult {
  const file = `Pulumi.${raw.stack}.yaml`;
  const errors: string[] = [];
  const seen = new Set<string>();
  // `resources.requests.cpu` and `featureFlags[0]` live under the key `resources`, `featureFlags`.
  const fileOf = (key: string) => raw.sources?.[`${PROJECT}:${key.split(/[.[]/)[0]}`] ?? file;
  const fail = (key: string, got: string, expected: string) =>
    errors.push(`${fileOf(key)}: ${PROJECT}:${key} ${got}; expected ${expected}.`);
  // Every secret's value, encrypted or not (a secret key in plaintext is still a secret).
  const secretFull = new Set(Object.keys(SECRET_KEYS).map((k) => `${PROJECT}:${k}`));
  const secretValues = Object.entries(raw.values)
    .filter(([k, v]) => (raw.secretKeys.has(k) || secretFull.has(k)) && v !== "")
    .map(([, v]) => v);
  const showsAsIs = (value: string) => {
    const r = redactValue(value, secretValues);
    return "text" in r && r.text === value;
  };
  /** `is "<the value>"` as a message may show it, or why it is not shown (see shownValue). */
  const got = (key: string, value: unknown) =>
    raw.secretKeys.has(`${PROJECT}:${key.split(/[.[]/)[0]}`)
      ? "holds a value not shown here (it is encrypted)"
      : typeof value === "string"
        ? shownValue(value, secretValues)
        : shownValue(String(JSON.stringify(value)), secretValues, false);

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
    if (!check.test(v)) fail(key, got(key, v), expected);
    return v;
  }

  function optionalStr(key: string, check: Check, expected: string): string | undefined {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    if (!check.test(v)) fail(key, got(key, v), expected);
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
      fail(key, got(key, v), `a whole number from ${min} to ${max}`);
      return min;
    }
    return n;
  }

  /** A structured key's value; UNREADABLE once its problem is reported (so it is not reported twice). */
  function json(key: string, expected: string): unknown {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      fail(key, got(key, v), expected);
      return UNREADABLE;
    }
  }

  function stringList(key: string, check: Check, expected: string, fallback: string[]): string[] {
    const value = json(key, `a YAML list of ${expected}`);
    if (value === undefined || value === UNREADABLE) return fallback;
    if (!Array.isArray(value)) {
      fail(key, got(key, value), `a YAML list of ${expected}`);
      return fallback;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      if (typeof item !== "string" || !check.test(item)) {
        fail(`${key}[${i}]`, got(key, item), expected);
      } else out.push(item);
    });
    return out;
  }

  /**
   * A URL-valued key. Credentials in it would be printed with it (in these errors, in pulumi's
   * output, in the smoke tests' reports), so user:password@ is refused outright, naming the secret
   * they belong in; a query string or fragment is refused too, and neither is ever shown.
   */
  function url(key: string, example: string, credentialsIn: SecretKey): string | undefined {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    const expected = `an http(s) base URL such as ${example}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(v);
    } catch {
      parsed = undefined;
    }
    // Any @ counts: a password typed with a / or ? in it makes the parser see a host, a port and
    // a path instead (https://deploy:12/x@host), and a base URL has no use for an @ in its path.
    const userinfo =
      (parsed !== undefined && (parsed.username !== "" || parsed.password !== "")) ||
      /:\/\/[\s\S]*@/.test(v);
    if (userinfo) {
      fail(
        key,
        "has a user name or password in it (user:password@), which would be printed with the URL",
        `${expected}, without them: put credentials in ${credentialsIn}, a secret ` +
          `(pulumi config set --secret ${credentialsIn} <value> -s ${raw.stack})`,
      );
    } else if (parsed && (parsed.search !== "" || parsed.hash !== "" || /[?#]/.test(v))) {
      fail(
        key,
        got(key, v),
        `${expected}, without a query string or fragment (the checks' paths are appended to it; ` +
          `a token belongs in ${credentialsIn}, a secret)`,
      );
    } else if (!parsed || !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(v)) {
      fail(key, got(key, v), expected);
    }
    return v;
  }

  const env = (isEnvName(raw.stack) ? raw.stack : "dev") as EnvName;
  const appName = str(
    "appName",
    DNS_LABEL,
    "a DNS label such as app (lower-case letters, digits, '-')",
    "app",
  );
  if (appName.length > 40) fail("appName", got("appName", appName), "at most 40 characters");
  const appSource = str(
    "appSource",
    /^(reference|image)$/,
    `"reference" or "image"`,
    "reference",
  ) as AppSource;
  const image = str(
    "image",
    IMAGE_REF,
    "an image reference such as node:24-alpine or registry/name@sha256:<64 hex>",
  );
  const containerPort = int("containerPort", 1024, 65535, 8080);
  const version = optionalStr(
    "version",
    VERSION,
    "a release version such as 1.4.2 (letters, digits, . _ + -)",
  );
  const postgresImage = str(
    "postgresImage",
    IMAGE_REF,
    "an image reference such as postgres:17-alpine",
    "postgres:17-alpine",
  );
  const replicas = int("replicas", 0, 1000);
  const maxReplicasRaw = rawValue("maxReplicas");
  const maxReplicas = maxReplicasRaw === undefined ? undefined : int("maxReplicas", 1, 1000);
  if (maxReplicas !== undefined && maxReplicasRaw !== undefined && maxReplicas < replicas) {
    fail(
      "maxReplicas",
      `is ${maxReplicas}, below replicas (${replicas})`,
      "a number at least as large as replicas",
    );
  }
  const host = str("host", DNS_NAME, "a DNS host name such as staging.example.com");
  const ingressClassName = str(
    "ingressClassName",
    DNS_NAME,
    "an IngressClass name such as nginx",
    "nginx",
  );
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
  const flagList = stringList(
    "featureFlags",
    FLAG,
    `flags written name=on or name=off, such as "checkout-v2=on"`,
    [],
  );
  const featureFlags: FeatureFlags = {};
  for (const entry of flagList) {
    const m = FLAG.exec(entry);
    if (!m || !m[1]) continue;
    if (m[1] in featureFlags) fail("featureFlags", `names ${m[1]} twice`, "each flag once");
    featureFlags[m[1]] = m[2] === "on";
  }
  const lockTimeout = str(
    "lockTimeout",
    PG_DURATION,
    `a PostgreSQL duration such as 5s or 500ms ("0" disables it)`,
    "5s",
  );
  const statementTimeout = str(
    "statementTimeout",
    PG_DURATION,
    "a PostgreSQL duration such as 5min",
    "5min",
  );
  const databaseStorage = str(
    "databaseStorage",
    /^[0-9]+(Mi|Gi|Ti)$/,
    "a storage size such as 1Gi",
    "1Gi",
  );
  const smokeBaseUrl = url("smokeBaseUrl", "https://staging.example.com", "smokeToken");
  // The path is repeated when the file cannot be read, so it must be one that can be shown as is.
  const smokeCaFile = optionalStr(
    "smokeCaFile",
    { test: (s) => /^[^\0]+\.(pem|crt)$/.test(s) && !s.includes("://") && showsAsIs(s) },
    "a path to a PEM file in the repository such as certs/ca.pem",
  );
  const smokeRequestTimeoutSeconds = int("smokeRequestTimeoutSeconds", 1, 600, 10);
  const smokeDeadlineSeconds = int("smokeDeadlineSeconds", 1, 3600, 60);
  if (smokeDeadlineSeconds < smokeRequestTimeoutSeconds) {
    fail(
      "smokeDeadlineSeconds",
      `is ${smokeDeadlineSeconds}, below smokeRequestTimeoutSeconds (${smokeRequestTimeoutSeconds})`,
      "a deadline at least as long as one request's timeout",
    );
  }
  const smokeTrigger = optionalStr(
    "smokeTrigger",
    /^.{1,200}$/,
    "any short text; change it to re-run the smoke tests",
  );
  const exceptionsRaw = rawValue(PARITY_EXCEPTIONS_KEY);
  const { exceptions: parityExceptions, errors: exceptionErrors } =
    parseParityExceptions(exceptionsRaw);
  for (const e of exceptionErrors) errors.push(`${fileOf(PARITY_EXCEPTIONS_KEY)}: ${e}.`);
  const resourcesValue = json("resources", "a YAML map of requests and limits");
  const resources =
    resourcesValue === UNREADABLE
      ? undefined
      : parseResources(resourcesValue, fail, (v) => got("resources", v));

  // Secrets: required ones must be present, and every secret must have been encrypted.
  const secretKeysPresent: SecretKey[] = [];
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [
    SecretKey,
    (typeof SECRET_KEYS)[SecretKey],
  ][]) {
    seen.add(key);
    const full = `${PROJECT}:${key}`;
    const present = full in raw.values;
    const how = `pulumi config set --secret ${key} <value> -s ${raw.stack}`;
    if (!present) {
      if (spec.required)
        errors.push(`${file}: ${full} is missing; it is ${spec.what}, set it with: ${how}.`);
      continue;
    }
    if (!raw.secretKeys.has(full)) {
      // The value itself is never repeated: it is already exposed in the file and should be rotated.
      const from = fileOf(key);
      errors.push(
        `${from}: ${full} is stored in plaintext; it is ${spec.what} and must be encrypted: ` +
          `${from === file ? "" : `remove it from ${from}, `}rotate it, then set it with: ${how}.`,
      );
      continue;
    }
    secretKeysPresent.push(key);
  }

  for (const full of Object.keys(raw.values).sort()) {
    const i = full.indexOf(":");
    const ns = i < 0 ? "" : full.slice(0, i);
    const key = full.slice(i + 1);
    const from = raw.sources?.[full] ?? file;
    if (ns === PROJECT) {
      if (!seen.has(key)) errors.push(unknownKey(from, key, [...seen]));
    } else if (!PROVIDER_NAMESPACES.includes(ns)) {
      errors.push(
        `${from}: ${full} is in namespace "${ns}", which nothing reads; expected ${PROJECT}:<key> ` +
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
