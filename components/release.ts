import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * Prints the commit being deployed: `<sha>`, `<sha>-dirty` when tracked files differ from it (then
 * the code deployed is not that commit), or `unknown` outside a git checkout (a tarball, a CI
 * cache), where provenance is missing rather than the deploy failed.
 */
export const RELEASE_COMMAND =
  'c=$(git rev-parse --verify --quiet HEAD 2>/dev/null) || c=unknown; ' +
  'if [ "$c" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then c="$c-dirty"; fi; ' +
  'echo "$c"';

/**
 * The commit being deployed, read through @pulumi/command's `local.run` so the engine records it
 * as an invoke rather than a side effect hidden in an apply.
 */
export function releaseCommit(dir: string, parent?: pulumi.Resource): pulumi.Output<string> {
  return command.local
    .runOutput(
      {
        command: RELEASE_COMMAND,
        dir,
        logging: "none",
      },
      { parent },
    )
    .apply((r) => r.stdout.trim() || "unknown");
}

/** The default release version: the commit, shortened as git shows it. */
export function versionFromCommit(commit: string): string {
  if (commit === "unknown") return commit;
  const dirty = commit.endsWith("-dirty");
  return commit.slice(0, 12) + (dirty ? "-dirty" : "");
}
