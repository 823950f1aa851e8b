/**
 * The values a Secret resource holds, as the API server would store them: what a lower
 * environment's fingerprints are compared with.
 */
import { isObject, isUnknown, kindOf, type KubeResource } from "../resources";

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
