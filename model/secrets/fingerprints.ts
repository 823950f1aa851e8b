/**
 * How a secret value of one environment is recognised in another without ever being written down.
 * A lower environment's secret values travel to the policy of the environment above only as
 * scrypt(value, salt): slow on purpose and keyed by a random salt carried next to them, so a
 * baseline (a stack output, a policy config file, a CI artifact) gives away neither the values nor
 * their lengths, and a precomputed dictionary is useless. The higher stack's policy fingerprints its
 * own secret values with the lower baseline's parameters and compares.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import { isObject } from "../resources";

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
