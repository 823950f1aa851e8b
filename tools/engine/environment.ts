/**
 * How to run the engine that `npm run engine:build` makes: the one place that knows its folder,
 * what goes on PATH, and the variables that keep it to the binaries built here.
 */
import * as path from "node:path";
import { REPO_ROOT as REPO } from "../../model/paths";
import { runScript } from "../lib/scripts";

/** The repository's own plugins: the policy-pack launcher and the @pulumi/command stand-in. */
export const PLUGINS_DIR = path.join(REPO, "tools", "engine", "plugins");
/** What `--policy-pack` names for this engine (see tools/engine/plugins/policy-pack). */
export const POLICY_PACK_LAUNCHER = path.join(PLUGINS_DIR, "policy-pack");

/** The engine's folder, or ScriptFailed (exit 3 when not built) that says how to build it. */
export function engineBinDir(): string {
  return runScript("tools/engine/bin.sh", "npm run engine:bin");
}

/**
 * The variables of every engine process: the engine and the repository's plugins first on PATH,
 * then this project's Node 24 (node_modules/.bin holds the `node` package), since the language
 * host and the plugins start whatever `node` PATH finds. Plugins come from PATH only: no download
 * is attempted, and a PULUMI_HOME of its own keeps plugins installed elsewhere out.
 */
export function engineEnviron(bin: string, home: string): Record<string, string> {
  return {
    PATH: [bin, PLUGINS_DIR, path.join(REPO, "node_modules", ".bin"), process.env.PATH ?? ""].join(
      path.delimiter,
    ),
    PULUMI_HOME: home,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ENV_PROGRESSION_POLICY_PACK: POLICY_PACK_LAUNCHER,
  };
}
