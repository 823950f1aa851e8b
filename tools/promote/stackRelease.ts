/**
 * The release a stack file names (its image and version config), as the promotion changes it and
 * puts it back: prod is pinned to what staging verified, a rollback redeploys the last verified
 * release, and afterwards the stack file holds again what it held before the run.
 */
import type { EnvName, Release } from "../../model/environment";
import type { StackRunner } from "./ports";
import { CONFIG_KEYS } from "./release";

/** What a stack file held for each release key before the run; undefined: the key was unset. */
export type ConfigSnapshot = Record<
  (typeof CONFIG_KEYS)[keyof typeof CONFIG_KEYS],
  string | undefined
>;

/** The release a run pinned a stack to, and what its stack file held before. */
export interface Pinned {
  release: Release;
  snapshot: ConfigSnapshot;
}

async function snapshotRelease(runner: StackRunner, env: EnvName): Promise<ConfigSnapshot> {
  return {
    [CONFIG_KEYS.image]: await runner.getConfig(env, CONFIG_KEYS.image),
    [CONFIG_KEYS.version]: await runner.getConfig(env, CONFIG_KEYS.version),
  } as ConfigSnapshot;
}

/** Point the stack file at `release`; the next preview or up deploys it. */
async function writeRelease(runner: StackRunner, env: EnvName, release: Release): Promise<void> {
  await runner.setConfig(env, CONFIG_KEYS.image, release.image);
  await runner.setConfig(env, CONFIG_KEYS.version, release.version);
}

/** Note what the stack file holds, then point it at `release`. */
export async function pinRelease(
  runner: StackRunner,
  env: EnvName,
  release: Release,
): Promise<Pinned> {
  const snapshot = await snapshotRelease(runner, env);
  await writeRelease(runner, env, release);
  return { release, snapshot };
}

/** Put the stack file back as `snapshot` found it, removing a key that was unset then. */
export async function restoreRelease(
  runner: StackRunner,
  env: EnvName,
  snapshot: ConfigSnapshot,
): Promise<void> {
  for (const [key, value] of Object.entries(snapshot)) {
    if (value === undefined) await runner.removeConfig(env, key);
    else await runner.setConfig(env, key, value);
  }
}

/**
 * Run `body` (a rollback's up) with the stack file pointing at `release`, then put it back as
 * `before` says (prod's file before it was pinned) or, without one, as it was.
 */
export async function withRelease<T>(
  runner: StackRunner,
  env: EnvName,
  release: Release,
  before: ConfigSnapshot | undefined,
  body: () => Promise<T>,
): Promise<T> {
  const snapshot = before ?? (await snapshotRelease(runner, env));
  try {
    await writeRelease(runner, env, release);
    return await body();
  } finally {
    await restoreRelease(runner, env, snapshot);
  }
}
