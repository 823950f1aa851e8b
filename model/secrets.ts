/**
 * What counts as a secret, where one can hide in a Kubernetes resource, and how a secret value of
 * one environment is recognised in another without ever being written down.
 *
 * Pure functions over plain, Kubernetes-shaped objects, as a CrossGuard policy sees them (secrets
 * unwrapped, pulumi/pulumi-policy#241; values unknown during preview still the engine's sentinel
 * strings). The program (its parity baseline), the policy pack and `verify` read this one model.
 *
 * Fingerprints. A lower environment's secret values travel to the policy of the environment above
 * only as scrypt(value, salt): slow on purpose and keyed by a random salt carried next to them, so
 * a baseline (a stack output, a policy config file, a CI artifact) gives away neither the values
 * nor their lengths, and a precomputed dictionary is useless. The higher stack's policy
 * fingerprints its own secret values with the lower baseline's parameters and compares.
 * Nothing in this module returns or formats a secret value: only names, places and fingerprints.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import {
  KubeResource,
  UNKNOWN,
  containersOf,
  isObject,
  isUnknown,
  kindOf,
  podSpecOf,
} from "./resources";

// ---------------------------------------------------------------------------------------------
// Sensitive names and plaintext.

/** Fragments that make a name sensitive wherever they occur in it: PGPASSWORD, dbSecretValue. */
const SENSITIVE_FRAGMENTS = [
  "PASSWORD",
  "PASSWD",
  "PASSPHRASE",
  "SECRET",
  "TOKEN",
  "CREDENTIAL",
  "APIKEY",
  "PRIVATEKEY",
];
/** Words that make a name sensitive only as a whole word: STRIPE_KEY, apiKey, PWD (but not MONKEY). */
const SENSITIVE_WORDS = new Set(["KEY", "KEYS", "PWD", "PASS", "AUTH"]);

/** Splits FOO_BAR, foo-bar, fooBar, foo.bar into upper-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => w.toUpperCase());
}

/**
 * A name that says it holds a secret: PASSWORD, TOKEN, SECRET, CREDENTIAL(S), PASSPHRASE, API key,
 * private key anywhere in it, or KEY / PWD / PASS / AUTH as a word of it.
 */
export function isSensitiveName(name: string): boolean {
  const ws = words(name);
  const joined = ws.join("");
  return (
    SENSITIVE_FRAGMENTS.some((f) => joined.includes(f)) || ws.some((w) => SENSITIVE_WORDS.has(w))
  );
}

/** Values that refer to a secret rather than being one: `$VAR`, `${VAR}`, `{{ .Values.x }}`, `process.env.X`. */
function isReference(value: string): boolean {
  return (
    /^\$[{(]?[A-Za-z_]/.test(value) ||
    /^\{\{.*\}\}$/.test(value) ||
    /^(process\.env|os\.environ|env)\b/.test(value) ||
    // a member expression in code (config.password, secrets.db.password)
    /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(value) ||
    /^(null|undefined|true|false|none|nil)$/i.test(value)
  );
}

/** How a text is read: a code file reveals literals only when quoted; a config file or a command line also unquoted. */
export type TextKind = "code" | "config" | "command";

/** ConfigMap keys whose content is program code: only quoted literals count as values there. */
const CODE_FILE = /\.(js|mjs|cjs|ts|py|rb|go|java|kt|php|pl|lua|sql|sh|bash)$/i;

export function textKindOfKey(key: string): TextKind {
  return CODE_FILE.test(key) ? "code" : "config";
}

// "name": "value", name = 'value', NAME: "value": a quoted literal, in any kind of text.
const QUOTED_ASSIGNMENT =
  /(?:^|[^A-Za-z0-9_.-])(?<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?<q>["'`])(?<value>[^"'`\n]+)\k<q>/gm;
// NAME=value, export NAME=value, name: value on a line of its own (dotenv, shell, YAML, properties).
const LINE_ASSIGNMENT =
  /^[ \t]*(?:export[ \t]+)?(?<name>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[:=][ \t]*(?<value>[^\s"'`#]+)[ \t]*$/gm;
// --name=value, --name value, NAME=value before a command.
const COMMAND_ASSIGNMENT =
  /(?:^|\s)(?:--?(?<flag>[A-Za-z][A-Za-z0-9_-]*)(?:=|\s+)|(?<env>[A-Za-z_][A-Za-z0-9_]*)=)(?<value>[^\s"'-][^\s"']*)/g;
const CREDENTIAL_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(?<password>[^/\s@]+)@/gi;

interface Assignment {
  name: string;
  value: string;
  quoted: boolean;
}

function assignments(text: string, kind: TextKind): Assignment[] {
  const out: Assignment[] = [];
  const scan = (re: RegExp, quoted: boolean) => {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      const g = m.groups ?? {};
      out.push({ name: g.name ?? g.flag ?? g.env ?? "", value: g.value ?? "", quoted });
    }
  };
  scan(QUOTED_ASSIGNMENT, true);
  if (kind === "config") scan(LINE_ASSIGNMENT, false);
  if (kind === "command") scan(COMMAND_ASSIGNMENT, false);
  return out;
}

/**
 * The sensitive names that a text assigns a literal value to. In code only quoted literals count
 * (`password: config.db.password` is a reference, `password: "hunter2"` a literal); in config
 * files and command lines unquoted ones too. Only names are returned, never the values.
 */
export function sensitiveAssignments(text: string, kind: TextKind): string[] {
  const found = new Set<string>();
  for (const a of assignments(text, kind)) {
    if (a.value === "" || !isSensitiveName(a.name)) continue;
    if (!a.quoted && isReference(a.value)) continue;
    found.add(a.name);
  }
  return [...found];
}

/** True when a text holds a URL with a password in it (postgres://user:password@host). */
export function hasCredentialUrl(text: string): boolean {
  CREDENTIAL_URL.lastIndex = 0;
  for (const m of text.matchAll(CREDENTIAL_URL)) {
    const pw = m.groups?.password ?? "";
    if (pw !== "" && !isReference(pw) && !/^\*+$/.test(pw)) return true;
  }
  return false;
}

/** Longest value that is compared whole with the fingerprints of the environment below. */
const CANDIDATE_MAX = 256;
/** Shortest: shorter values are too common to mean anything (and every guess costs a fingerprint). */
export const CANDIDATE_MIN = 8;
/** Longer texts (scripts, code) are searched only for sensitive assignments and URLs, not token by token. */
const TOKENIZE_MAX = 4096;
/** Every candidate costs one fingerprint (tens of milliseconds): a bound per text. */
const MAX_CANDIDATES = 64;

/**
 * The substrings of a plain value that could be a secret copied in: the whole value, URL
 * passwords, values assigned to sensitive names, and, in a short text, every token (config, command
 * lines) or string literal (code). In memory only, to fingerprint and forget.
 */
export function secretCandidates(text: string, kind: TextKind = "config"): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (
      out.size < MAX_CANDIDATES &&
      s.length >= CANDIDATE_MIN &&
      s.length <= CANDIDATE_MAX &&
      !isUnknown(s)
    )
      out.add(s);
  };
  add(text);
  CREDENTIAL_URL.lastIndex = 0;
  for (const m of text.matchAll(CREDENTIAL_URL)) add(m.groups?.password ?? "");
  const all = assignments(text, kind);
  for (const a of all) if (isSensitiveName(a.name)) add(a.value);
  if (text.length <= TOKENIZE_MAX) {
    if (kind === "code") {
      // In code, data sits in string literals; identifiers and keywords cannot be a copied secret.
      for (const m of text.matchAll(/(["'`])([^"'`\n]{8,256})\1/g)) add(m[2] ?? "");
    } else {
      for (const a of all) add(a.value);
      for (const token of text.split(/[\s"'`=,;]+/)) add(token);
    }
  }
  return [...out];
}

/** A place in a resource that holds plain text: never meant for a secret. */
export interface PlainSite {
  kind: "env" | "configMap" | "annotation" | "command" | "input";
  /** Human words for where: `env DB_URL of container app`, `ConfigMap key app.env`. Never a value. */
  where: string;
  /** The variable, key or annotation name, when the place has one. */
  name?: string;
  value: string;
  /** How the value reads: a command line, a code file, or config text. */
  text: TextKind;
  path: string[];
}

function annotationSites(
  metadata: unknown,
  path: string[],
  label: string,
  unknown: string[][],
): PlainSite[] {
  if (!isObject(metadata)) return [];
  const annotations = metadata.annotations;
  if (isUnknown(annotations)) {
    unknown.push([...path, "annotations"]);
    return [];
  }
  if (!isObject(annotations)) return [];
  const out: PlainSite[] = [];
  for (const [k, v] of Object.entries(annotations)) {
    if (isUnknown(v)) unknown.push([...path, "annotations", k]);
    else if (typeof v === "string") {
      out.push({
        kind: "annotation",
        where: `annotation ${k}${label}`,
        name: k,
        value: v,
        text: "config",
        path: [...path, "annotations", k],
      });
    }
  }
  return out;
}

function commandText(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.filter((s): s is string => typeof s === "string" && !isUnknown(s)).join(" ");
}

/**
 * Every place of a resource that holds plain text a secret must not be copied into: env var
 * values, command lines (command, args, exec probes and hooks), annotations, ConfigMap data.
 * Unknown values are skipped and their paths pushed to `unknown`.
 */
export function plainTextSites(r: KubeResource, unknown: string[][] = []): PlainSite[] {
  const out: PlainSite[] = [];
  out.push(...annotationSites(r.props.metadata, ["metadata"], "", unknown));
  const kind = kindOf(r.type);
  if (kind === "ConfigMap") {
    const data = r.props.data;
    if (isUnknown(data)) unknown.push(["data"]);
    else if (isObject(data)) {
      for (const [k, v] of Object.entries(data)) {
        if (isUnknown(v)) unknown.push(["data", k]);
        else if (typeof v === "string")
          out.push({
            kind: "configMap",
            where: `ConfigMap key ${k}`,
            name: k,
            value: v,
            text: textKindOfKey(k),
            path: ["data", k],
          });
      }
    }
  }
  const pod = podSpecOf(r);
  if (pod === undefined) return out;
  if (pod.template !== undefined && kind !== "Pod") {
    out.push(
      ...annotationSites(
        pod.template.metadata,
        [...pod.path.slice(0, -1), "metadata"],
        " of the pod template",
        unknown,
      ),
    );
  }
  if (pod.spec === UNKNOWN) {
    unknown.push(pod.path);
    return out;
  }
  for (const c of containersOf(pod.spec, pod.path, unknown)) {
    const of = ` of container ${c.name}`;
    const env = c.container.env;
    if (isUnknown(env)) unknown.push([...c.path, "env"]);
    else if (Array.isArray(env)) {
      env.forEach((e, i) => {
        if (isUnknown(e)) return void unknown.push([...c.path, "env", String(i)]);
        if (!isObject(e)) return;
        const name = typeof e.name === "string" && !isUnknown(e.name) ? e.name : `env[${i}]`;
        if (isUnknown(e.value)) unknown.push([...c.path, "env", String(i), "value"]);
        else if (typeof e.value === "string") {
          out.push({
            kind: "env",
            where: `env ${name}${of}`,
            name,
            value: e.value,
            text: "command",
            path: [...c.path, "env", String(i), "value"],
          });
        }
      });
    }
    const lines: [string, unknown][] = [
      [
        "command and args",
        [
          ...(Array.isArray(c.container.command) ? c.container.command : []),
          ...(Array.isArray(c.container.args) ? c.container.args : []),
        ],
      ],
    ];
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      const p = c.container[probe];
      if (isObject(p) && isObject(p.exec)) lines.push([`${probe} command`, p.exec.command]);
    }
    const lifecycle = c.container.lifecycle;
    if (isObject(lifecycle)) {
      for (const hook of ["postStart", "preStop"]) {
        const h = lifecycle[hook];
        if (isObject(h) && isObject(h.exec)) lines.push([`${hook} hook command`, h.exec.command]);
      }
    }
    for (const [what, list] of lines) {
      if (Array.isArray(list) && list.some(isUnknown))
        unknown.push([...c.path, what.split(" ")[0] as string]);
      const text = commandText(list);
      if (text !== undefined && text !== "")
        out.push({
          kind: "command",
          where: `${what}${of}`,
          value: text,
          text: "command",
          path: c.path,
        });
    }
  }
  return out;
}

/**
 * Every string of a resource of another provider (a dynamic resource, a command): its inputs, as
 * places a copied secret could sit. Top-level keys starting with `__` are the SDK's own (the
 * engine does not send them either).
 */
export function inputStringSites(r: KubeResource, unknown: string[][] = []): PlainSite[] {
  const out: PlainSite[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (out.length >= 256) return;
    if (isUnknown(v)) return void unknown.push(path);
    if (typeof v === "string") {
      out.push({
        kind: "input",
        where: `input ${path.join(".")}`,
        value: v,
        text: "command",
        path,
      });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  for (const [k, v] of Object.entries(r.props)) if (!k.startsWith("__")) walk(v, [k]);
  return out;
}

/** Why a plain site looks like it holds a secret, in words; empty when it does not. Never a value. */
export function plaintextSecretReasons(site: PlainSite): string[] {
  const reasons: string[] = [];
  if (site.value === "") return reasons;
  if (
    (site.kind === "env" || site.kind === "annotation" || site.kind === "configMap") &&
    site.name !== undefined
  ) {
    if (isSensitiveName(site.name) && !isReference(site.value))
      reasons.push(`its name (${site.name}) says it holds a secret`);
  }
  const assigned = sensitiveAssignments(site.value, site.text);
  if (assigned.length > 0) reasons.push(`it assigns a value to ${assigned.join(", ")}`);
  if (hasCredentialUrl(site.value)) reasons.push("it holds a URL with a password in it");
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// Secret values and references.

/** One value of a Secret resource; `where` is `stringData.password` or `data.password`. */
export interface SecretValueAt {
  where: string;
  key: string;
  value: string;
}

/**
 * The values a Secret resource holds: `stringData` as is, `data` decoded from base64 (as the API
 * server would). Unknown values are skipped and their paths pushed to `unknown`.
 */
export function secretValuesOf(r: KubeResource, unknown: string[][] = []): SecretValueAt[] {
  if (kindOf(r.type) !== "Secret") return [];
  const out: SecretValueAt[] = [];
  for (const field of ["stringData", "data"] as const) {
    const map = r.props[field];
    if (isUnknown(map)) {
      unknown.push([field]);
      continue;
    }
    if (!isObject(map)) continue;
    for (const [key, v] of Object.entries(map)) {
      if (isUnknown(v)) unknown.push([field, key]);
      else if (typeof v === "string") {
        const value = field === "data" ? Buffer.from(v, "base64").toString("utf8") : v;
        out.push({ where: `${field}.${key}`, key, value });
      }
    }
  }
  return out;
}

/** A pod's reference to a Secret, by name (always in the pod's own namespace in Kubernetes). */
export interface SecretReference {
  secret: string;
  /** `env PGPASSWORD of container migrate`, `volume creds`, `imagePullSecrets[0]`. */
  where: string;
}

/** Every Secret a pod spec refers to. Unknown names are skipped and their paths pushed to `unknown`. */
export function secretReferencesOf(
  spec: Record<string, unknown>,
  basePath: string[],
  unknown: string[][] = [],
): SecretReference[] {
  const out: SecretReference[] = [];
  const add = (name: unknown, where: string, path: string[]) => {
    if (isUnknown(name)) unknown.push(path);
    else if (typeof name === "string") out.push({ secret: name, where });
  };
  for (const c of containersOf(spec, basePath, unknown)) {
    const env = c.container.env;
    if (Array.isArray(env)) {
      env.forEach((e, i) => {
        if (!isObject(e) || !isObject(e.valueFrom)) return;
        const ref = e.valueFrom.secretKeyRef;
        if (isUnknown(ref))
          unknown.push([...c.path, "env", String(i), "valueFrom", "secretKeyRef"]);
        else if (isObject(ref))
          add(ref.name, `env ${String(e.name)} of container ${c.name}`, [
            ...c.path,
            "env",
            String(i),
            "valueFrom",
            "secretKeyRef",
            "name",
          ]);
      });
    }
    const envFrom = c.container.envFrom;
    if (Array.isArray(envFrom)) {
      envFrom.forEach((e, i) => {
        if (isObject(e) && isObject(e.secretRef))
          add(e.secretRef.name, `envFrom of container ${c.name}`, [
            ...c.path,
            "envFrom",
            String(i),
            "secretRef",
            "name",
          ]);
      });
    }
  }
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      if (!isObject(v)) return;
      const vname = typeof v.name === "string" ? v.name : `volumes[${i}]`;
      if (isObject(v.secret))
        add(v.secret.secretName, `volume ${vname}`, [
          ...basePath,
          "volumes",
          String(i),
          "secret",
          "secretName",
        ]);
      if (isObject(v.projected) && Array.isArray(v.projected.sources)) {
        v.projected.sources.forEach((s, j) => {
          if (isObject(s) && isObject(s.secret))
            add(s.secret.name, `projected volume ${vname}`, [
              ...basePath,
              "volumes",
              String(i),
              "projected",
              "sources",
              String(j),
              "secret",
              "name",
            ]);
        });
      }
    });
  }
  const pull = spec.imagePullSecrets;
  if (Array.isArray(pull)) {
    pull.forEach((p, i) => {
      if (isObject(p))
        add(p.name, `imagePullSecrets[${i}]`, [...basePath, "imagePullSecrets", String(i), "name"]);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints.

/** scrypt cost: 2^14 x 8 x 128 bytes = 16 MiB and about 35 ms per value on one core of a 2024 laptop. */
export const DEFAULT_SCRYPT = { N: 2 ** 14, r: 8, p: 1, length: 32 } as const;

export interface FingerprintParams {
  algorithm: "scrypt";
  /** Random per baseline, base64. */
  salt: string;
  N: number;
  r: number;
  p: number;
  /** Bytes of output. */
  length: number;
}

export interface SecretFingerprint {
  /** What the value is, by name only: `config dbPassword`, `Secret app-db-credentials/password`. */
  source: string;
  /** base64 of scrypt(value, salt). */
  fingerprint: string;
}

export interface SecretFingerprints {
  params: FingerprintParams;
  values: SecretFingerprint[];
}

export function newFingerprintParams(salt: Buffer = randomBytes(16)): FingerprintParams {
  return { algorithm: "scrypt", salt: salt.toString("base64"), ...DEFAULT_SCRYPT };
}

/**
 * Parameters whose salt is derived from a random value the stack already keeps, such as its
 * Namespace's `metadata.uid` (assigned by the API server, stable for the namespace's life): the
 * stack's fingerprints, and so its `parityBaseline` output, stay the same from one `up` or preview
 * to the next, and differ between stacks and installations.
 */
export function stableFingerprintParams(seed: string): FingerprintParams {
  if (seed.length < 16)
    throw new Error("a fingerprint salt seed needs at least 16 characters of a random value");
  return newFingerprintParams(
    createHash("sha256")
      .update("env-progression fingerprint salt\0")
      .update(seed)
      .digest()
      .subarray(0, 16),
  );
}

export function sameFingerprintParams(a: FingerprintParams, b: FingerprintParams): boolean {
  return (
    a.algorithm === b.algorithm &&
    a.salt === b.salt &&
    a.N === b.N &&
    a.r === b.r &&
    a.p === b.p &&
    a.length === b.length
  );
}

function scryptOptions(params: FingerprintParams) {
  return {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  };
}

export function fingerprint(value: string, params: FingerprintParams): string {
  return scryptSync(
    Buffer.from(value, "utf8"),
    Buffer.from(params.salt, "base64"),
    params.length,
    scryptOptions(params),
  ).toString("base64");
}

/** The same as `fingerprint`, on libuv's thread pool: several run at once, and none blocks the loop. */
function fingerprintAsync(value: string, params: FingerprintParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      Buffer.from(value, "utf8"),
      Buffer.from(params.salt, "base64"),
      params.length,
      scryptOptions(params),
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/**
 * Fingerprints computed in this process, per parameter set, keyed by a hash of the value (never
 * the value itself): a Buffer once computed, a Promise while one is being computed.
 */
const FINGERPRINT_CACHE = new Map<string, Map<string, Buffer | Promise<Buffer>>>();

function cacheOf(value: string, params: FingerprintParams) {
  const pkey = `${params.algorithm}:${params.salt}:${params.N}:${params.r}:${params.p}:${params.length}`;
  let cache = FINGERPRINT_CACHE.get(pkey);
  if (cache === undefined) {
    cache = new Map();
    FINGERPRINT_CACHE.set(pkey, cache);
  }
  return { cache, key: createHash("sha256").update(value, "utf8").digest("base64") };
}

function cachedFingerprint(value: string, params: FingerprintParams): Buffer {
  const { cache, key } = cacheOf(value, params);
  const hit = cache.get(key);
  if (Buffer.isBuffer(hit)) return hit;
  const fp = Buffer.from(fingerprint(value, params), "base64");
  cache.set(key, fp);
  return fp;
}

function cachedFingerprintAsync(value: string, params: FingerprintParams): Promise<Buffer> {
  const { cache, key } = cacheOf(value, params);
  const hit = cache.get(key);
  if (hit !== undefined) return Promise.resolve(hit);
  const pending = fingerprintAsync(value, params).then(
    (fp) => {
      cache.set(key, fp);
      return fp;
    },
    (err: unknown) => {
      cache.delete(key);
      throw err;
    },
  );
  cache.set(key, pending);
  return pending;
}

/** Fingerprints of named values with one set of parameters (fresh ones by default). */
export function fingerprintSecrets(
  values: readonly { source: string; value: string }[],
  params: FingerprintParams = newFingerprintParams(),
): SecretFingerprints {
  const out: SecretFingerprint[] = [];
  for (const { source, value } of values)
    out.push({ source, fingerprint: cachedFingerprint(value, params).toString("base64") });
  out.sort((a, b) => a.source.localeCompare(b.source));
  return { params, values: out };
}

/**
 * Answers "is this a value the other environment uses as a secret?" for many values, computing
 * each value's fingerprint once per parameter set and process (the cache lives in memory only).
 */
export class FingerprintMatcher {
  private readonly known: { source: string; fingerprint: Buffer }[];

  constructor(readonly fingerprints: SecretFingerprints) {
    this.known = fingerprints.values.map((v) => ({
      source: v.source,
      fingerprint: Buffer.from(v.fingerprint, "base64"),
    }));
  }

  /**
   * The other environment's sources whose value equals `value` (empty when none). Asynchronous so
   * that the fingerprints of many candidates are computed side by side on libuv's thread pool.
   */
  async sourcesOf(value: string): Promise<string[]> {
    if (this.known.length === 0) return [];
    const mine = await cachedFingerprintAsync(value, this.fingerprints.params);
    return this.known
      .filter((k) => k.fingerprint.length === mine.length && timingSafeEqual(k.fingerprint, mine))
      .map((k) => k.source);
  }
}

/**
 * Checks a fingerprint set that came from outside (policy config). Bounds the scrypt cost so that
 * a malformed or hostile baseline cannot make the policy pack spend minutes or gigabytes.
 * Problems name the field, never its value.
 */
export function parseSecretFingerprints(
  raw: unknown,
  where: string,
): { value?: SecretFingerprints; errors: string[] } {
  const errors: string[] = [];
  if (!isObject(raw)) return { errors: [`${where} is not a map; expected {params, values}`] };
  const p = raw.params;
  if (!isObject(p))
    errors.push(
      `${where}.params is not a map; expected {algorithm: scrypt, salt, N, r, p, length}`,
    );
  else {
    if (p.algorithm !== "scrypt") errors.push(`${where}.params.algorithm is not "scrypt"`);
    const salt =
      typeof p.salt === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(p.salt)
        ? Buffer.from(p.salt, "base64")
        : undefined;
    if (salt === undefined || salt.length < 16)
      errors.push(`${where}.params.salt is not base64 of at least 16 bytes`);
    const int = (v: unknown, min: number, max: number) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
    if (!int(p.N, 2 ** 10, 2 ** 20) || ((p.N as number) & ((p.N as number) - 1)) !== 0) {
      errors.push(`${where}.params.N is not a power of two from 2^10 to 2^20`);
    }
    if (!int(p.r, 1, 32)) errors.push(`${where}.params.r is not a whole number from 1 to 32`);
    if (!int(p.p, 1, 16)) errors.push(`${where}.params.p is not a whole number from 1 to 16`);
    if (!int(p.length, 16, 64))
      errors.push(`${where}.params.length is not a whole number from 16 to 64`);
  }
  const values = raw.values;
  if (!Array.isArray(values)) errors.push(`${where}.values is not a list`);
  else {
    if (values.length > 1000) errors.push(`${where}.values has more than 1000 entries`);
    values.forEach((v, i) => {
      if (
        !isObject(v) ||
        typeof v.source !== "string" ||
        typeof v.fingerprint !== "string" ||
        !/^[A-Za-z0-9+/]+={0,2}$/.test(v.fingerprint)
      ) {
        errors.push(`${where}.values[${i}] is not {source, fingerprint (base64)}`);
      }
    });
  }
  if (errors.length > 0) return { errors };
  return { value: raw as unknown as SecretFingerprints, errors };
}
