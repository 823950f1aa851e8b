/**
 * How a TypeScript tool runs one of the shell commands (tools/cluster, tools/engine) and reads its
 * exit: the scripts exit by model/cli.ts's table (tools/lib/help.sh), so a caller can end with the
 * script's own code instead of one code for every failure.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { EXIT, type ExitCode } from "../../model/cli";
import { REPO_ROOT } from "../../model/paths";

/** A script that did not exit 0: its message (its stderr when captured) and its code. */
export class ScriptFailed extends Error {
  constructor(
    message: string,
    /** The script's exit code when it is one of the table's; EXIT.internal otherwise (a signal). */
    readonly code: ExitCode,
  ) {
    super(message);
    this.name = "ScriptFailed";
  }
}

/**
 * Runs `script` (a path from the repository root) with bash, and returns its stdout, trimmed.
 * With `inherit`, its output goes to this process's instead (and "" is returned).
 */
export function runScript(script: string, what: string, inherit = false): string {
  const r = spawnSync("bash", [path.join(REPO_ROOT, script)], {
    encoding: "utf8",
    stdio: ["ignore", inherit ? "inherit" : "pipe", inherit ? "inherit" : "pipe"],
  });
  if (r.status === 0) return (r.stdout ?? "").trim();
  const code = (Object.values(EXIT) as number[]).includes(r.status ?? -1)
    ? (r.status as ExitCode)
    : EXIT.internal;
  const said = (r.stderr ?? "").trim();
  throw new ScriptFailed(
    `${what} failed (exit ${r.status ?? r.signal ?? r.error?.message})${said ? `: ${said}` : "; see the lines above"}`,
    code,
  );
}
