/**
 * What a release is to promote: the stack config keys it is set through, the `Release` output a
 * stack exports, and how one reads in a line.
 */
import type { Release } from "../../model/environment";

/** The stack config keys a release is made of (`env-progression:` is the project namespace). */
export const CONFIG_KEYS = {
  image: "env-progression:image",
  version: "env-progression:version",
} as const;

/** A `Release` stack output, or undefined when the value is absent or not shaped like one. */
export function parseRelease(value: unknown): Release | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { version, commit, image } = value as Record<string, unknown>;
  if (typeof version !== "string" || typeof image !== "string") return undefined;
  return { version, image, commit: typeof commit === "string" ? commit : "unknown" };
}

export function describeRelease(r: Release): string {
  return `${r.version} (${r.image})`;
}
